"""Reading CRM export cells: encodings, delimiters, headers, numbers, dates, probabilities and flags.

Every parser takes one raw cell (a string from a CSV, or an int/float/datetime from an .xlsx) and returns a
Python value or ``None`` for a blank cell; it raises ``ValueError`` for a value it cannot read, so the caller
can collect examples and raise one :class:`~salesperf.core.errors.UserError` per column. Column-level helpers
(``parse_date_column``, ``parse_probability_column``) settle what one value alone cannot: day/month order and
the probability scale.

Parts: :mod:`.text` (tokens, scripts, headers, encodings, delimiters), :mod:`.numbers` (numbers,
probabilities, flags) and :mod:`.dates` (dates and times); callers use the names re-exported here.
"""

from salesperf.data.parsing.dates import (
    EXCEL_EPOCH,
    day_month_order,
    locale_day_first,
    parse_date,
    parse_date_column,
    time_of_day,
)
from salesperf.data.parsing.numbers import (
    decimal_separator,
    parse_bool,
    parse_number,
    parse_probability_column,
)
from salesperf.data.parsing.text import (
    BLANK_TOKENS,
    FALSE_TOKENS,
    TRUE_TOKENS,
    clean_text,
    detect_encoding,
    normalize_header,
    sniff_delimiter,
    split_header_unit,
    to_simplified,
)

__all__ = [
    "BLANK_TOKENS",
    "EXCEL_EPOCH",
    "FALSE_TOKENS",
    "TRUE_TOKENS",
    "clean_text",
    "day_month_order",
    "decimal_separator",
    "detect_encoding",
    "locale_day_first",
    "normalize_header",
    "parse_bool",
    "parse_date",
    "parse_date_column",
    "parse_number",
    "parse_probability_column",
    "sniff_delimiter",
    "split_header_unit",
    "time_of_day",
    "to_simplified",
]
