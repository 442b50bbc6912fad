"""Run reports: figures (``pinngen.report.plots``), one self-contained HTML page, a plain-text summary.

``plots`` is not imported here so that the CLI's text paths do not pay for importing matplotlib.
"""

from pinngen.report.html import write_report
from pinngen.report.summary import summarize_run

__all__ = ["summarize_run", "write_report"]
