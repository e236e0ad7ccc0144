"""One module per experiment: a frozen config dataclass, its PRESETS, and functions that return arrays to plot."""
