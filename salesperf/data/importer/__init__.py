"""Convert CRM exports (Salesforce, HubSpot, Zoho CRM, Fxiaoke, or any file described by a mapping file) into
canonical tables.

A *mapping* (YAML; the presets in ``salesperf/data/presets/`` are mappings too) lists one or more *kinds* of
export. A kind names the canonical table it feeds, how to recognise it from its headers (``detect``) and, for
every canonical or helper field, the source headers it may come from (``columns``, first match wins). See
docs/import.md for the format.

``run_import`` reads each source file, finds its header row, recognises its kind, parses numbers/dates/flags
(:mod:`salesperf.data.parsing`), derives status and close dates, and writes ``<table>.csv`` files (UTF-8, ISO
dates) that ``--data DIR`` reads. Every row read is either written or counted under a drop reason in the
returned ``ImportSummary``.

Modules, in the order a file goes through them: :mod:`~.mapping` (mapping files and presets; one kind in
:mod:`~.mapping_kinds`, ``tables:`` and ``join:`` in :mod:`~.mapping_tables`), :mod:`~.read` (cells, header
row, footers; CSVs through Arrow in :mod:`~.fastcsv`, cells kept by distinct value in :mod:`~.cells`),
:mod:`~.detect` (which preset and kind), :mod:`~.join` (a ``join:`` file onto the rows), :mod:`~.columns`
(headers to fields), :mod:`~.fields` (a column of cells to canonical values), :mod:`~.convert` (value maps
and statuses), :mod:`~.rows` (one file to canonical rows, :func:`import_source`), :mod:`~.entities` (one row
per entity, side tables, names re-keyed to ids), :mod:`~.assemble` (all files to tables, :func:`run_import`),
:mod:`~.write` (a table to CSV), :mod:`~.summary` (row accounting) and :mod:`~.accounting`
(``import_accounting.csv`` beside the tables, read back with :func:`read_import_accounting`; one row per
customer/product/rep from flat files).
"""

from salesperf.data.importer.accounting import ACCOUNTING_FILE, accounting_frame, read_import_accounting
from salesperf.data.importer.assemble import run_import
from salesperf.data.importer.columns import Resolved, resolve_columns
from salesperf.data.importer.detect import detect_preset
from salesperf.data.importer.mapping import COMMON_FILE, PRESET_DIR, Mapping, available_presets, load_mapping
from salesperf.data.importer.mapping_kinds import HELPER_FIELDS, Detect, Kind
from salesperf.data.importer.read import HEADER_SEARCH_ROWS, locate_header, read_cells
from salesperf.data.importer.rows import import_file, import_source
from salesperf.data.importer.summary import ImportSummary, SourceSummary, TableSummary

__all__ = [
    "ACCOUNTING_FILE",
    "COMMON_FILE",
    "HEADER_SEARCH_ROWS",
    "HELPER_FIELDS",
    "PRESET_DIR",
    "Detect",
    "ImportSummary",
    "Kind",
    "Mapping",
    "Resolved",
    "SourceSummary",
    "TableSummary",
    "accounting_frame",
    "available_presets",
    "detect_preset",
    "import_file",
    "import_source",
    "load_mapping",
    "locate_header",
    "read_cells",
    "read_import_accounting",
    "resolve_columns",
    "run_import",
]
