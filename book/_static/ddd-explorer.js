/* The book's kernel-free explorers (ddd_utils/notebook/web): each .ddd-explorer element holds, as inert JSON, a
   Vega-Lite spec, its sliders and one table entry per setting of the sliders each table depends on. This script
   builds the sliders (labelled range inputs: arrow keys move them), draws the chart with the book's own copy of Vega
   and, on every move, swaps in the entries of the new setting. Nothing is fetched; nothing is computed but rows. */
(function () {
  "use strict";

  // Rows of a table entry: each segment's arrays side by side ("@name": the shared array of that name), its
  // scalars (the series' name) on every row.
  function rowsOf(segments, shared) {
    const rows = [];
    for (const stored of segments) {
      const segment = {};
      for (const [field, value] of Object.entries(stored)) {
        segment[field] = typeof value === "string" && value.startsWith("@") ? shared[value.slice(1)] : value;
      }
      const fields = Object.keys(segment);
      const arrays = fields.filter((field) => Array.isArray(segment[field]));
      const length = arrays.length ? segment[arrays[0]].length : 1;
      for (let i = 0; i < length; i++) {
        const row = {};
        for (const field of fields) row[field] = Array.isArray(segment[field]) ? segment[field][i] : segment[field];
        rows.push(row);
      }
    }
    return rows;
  }

  function shown(value) {
    return typeof value === "number" ? String(Number(value.toPrecision(4))) : String(value);
  }

  let explorers = 0;

  async function mount(element) {
    const payload = JSON.parse(element.querySelector("script.ddd-explorer-data").textContent);
    const number = ++explorers;
    const index = {};
    const controls = document.createElement("div");
    controls.className = "ddd-explorer-controls";
    for (const slider of payload.sliders) {
      index[slider.name] = slider.start;
      const id = `ddd-explorer-${number}-${slider.name}`;
      const label = document.createElement("label");
      label.htmlFor = id;
      label.textContent = slider.label;
      const input = document.createElement("input");
      Object.assign(input, { type: "range", id, min: 0, max: slider.values.length - 1, step: 1,
                             value: slider.start });
      input.dataset.slider = slider.name;
      const output = document.createElement("output");
      output.htmlFor = id;
      const show = () => {
        output.value = shown(slider.values[index[slider.name]]);
        input.setAttribute("aria-valuetext", `${slider.label} ${output.value}`);
      };
      show();
      input.addEventListener("input", () => {
        index[slider.name] = Number(input.value);
        show();
        update();
      });
      const row = document.createElement("div");
      row.className = "ddd-explorer-slider";
      row.append(label, input, output);
      controls.append(row);
    }
    const note = document.createElement("p");
    note.className = "ddd-explorer-note";
    note.textContent = payload.note;
    const chart = document.createElement("div");
    chart.className = "ddd-explorer-chart";
    element.querySelector(".ddd-explorer-fallback").remove();
    element.append(controls, chart, note);

    const view = new vega.View(vega.parse(vegaLite.compile(payload.spec).spec),
                               { renderer: "svg", container: chart, hover: false });
    element.dddView = view;  // for the browser tests, and for a reader curious about the data in the console
    const key = (by) => by.map((name) => index[name]).join(",");
    async function update() {
      const started = performance.now();
      for (const [name, table] of Object.entries(payload.tables)) {
        view.data(name, rowsOf(table.entries[key(table.by)], payload.shared));
      }
      for (const [name, text] of Object.entries(payload.texts)) view.signal(name, text.entries[key(text.by)]);
      for (const slider of payload.sliders) view.signal(slider.name, slider.values[index[slider.name]]);
      await view.runAsync();
      // until the frame is painted: a callback before the next paint, then a task after it
      await new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
      element.dataset.redrawMs = (performance.now() - started).toFixed(1);  // read by the tests and benchmark
      element.dataset.redraws = String(Number(element.dataset.redraws || 0) + 1);
    }
    await update();
    element.classList.add("ddd-explorer-live");
    // On screen (ddd-explorer.css), this explorer replaces the widget cell before it, whose sliders need a kernel,
    // and the static figure after it; an explorer that fails to draw leaves both in place.
    const cell = element.closest(".cell");
    for (const [neighbour, tag] of [[cell?.previousElementSibling, "tag_kernel-explorer"],
                                    [cell?.nextElementSibling, "tag_static-figure"]]) {
      if (neighbour?.classList.contains(tag)) neighbour.classList.add("ddd-replaced");
    }
  }

  function mountAll() {
    for (const element of document.querySelectorAll(".ddd-explorer")) {
      mount(element).catch((error) => {
        element.dataset.error = String(error);
        console.error("ddd-explorer:", error);
      });
    }
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", mountAll);
  else mountAll();
})();
