"""Chapters 1-3's solvers and closed forms, in numpy alone (no torch): feature maps, least squares and ridge,
random features and kernels, and the asymptotic risk of min-norm regression. Imports only the top-level helpers."""
