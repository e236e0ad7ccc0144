"""What the chapters call from a notebook: presets, the book's plots and their legibility check, claims a page
checks against its own run, shipped results, chapter times, the explorers, and the guard of the build's notebook
execution. May import every other room."""
