"""The torch training engine: a recipe and its data (`recipe`, at the bottom), one optimizer step for many stacked
models (`steps`), evaluation, histories and checkpoints, the training loop (`training`), resumable sweeps and
documented searches over them (`sweep`, `searches`), provenance, and GPU-time estimates. Imports the top-level
helpers and `models`; nothing above it."""
