"""Explorers for the published book: the chapters' sliders over data embedded in the page, drawn by Vega-Lite in the
reader's browser with no kernel (`explorer` holds the data and the page's markup, `vegalite` the charts, one module
per chapter family the builders)."""
