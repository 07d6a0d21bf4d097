"""fpsim's figures: one plotting package for every figure fpsim makes.

Reads only fpsim's stable result files (docs/training.md "Result files",
"Divergence report"; the JSON of `fpsim formats --json`, `fpsim mma-error`,
`fpsim verify`, `fpsim quantize`) and draws them in one style
(fpsim_plot.style): colour-blind safe, sized for a paper's single (3.3 in) or
double (6.9 in) column, fonts embedded, each figure captioned with what it
shows and the files it came from, each written as PDF, PNG and the CSV of
the series it plotted.

Entry point: scripts/plot (or `python3 -m fpsim_plot` with scripts/ on
PYTHONPATH), docs/figures.md.
"""
