"""salesperf: sales-performance analytics workbook.

CRM exports go in; periodic, reproducible reports come out (papermill-executed notebooks rendered to
offline HTML).
"""

__version__ = "0.1.0"
