"""Interactive explorers, one module per chapter family over a shared `core`: `polynomial` (chapter 1), `linear`
(2), `random_features` (3), `sweeps` (finished sweeps, 4-6) and `explanations` (7-8)."""
