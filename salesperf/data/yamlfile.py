"""YAML files written by users (catalogs, mapping files), read safely: plain data only (``yaml.SafeLoader``),
at most 1 MB, no key defined twice, and anchors and aliases allowed only while the document they expand to
stays small (an "alias bomb" of nine nested lists of nine aliases expands to hundreds of millions of nodes; it
is refused before anything is built from it).
"""

from __future__ import annotations

from pathlib import Path

import yaml

from salesperf.core.errors import UserError

#: Largest YAML file read, in bytes.
MAX_BYTES = 1_000_000
#: Largest document, in nodes once every alias is expanded.
MAX_NODES = 200_000


def _expanded_size(node: yaml.Node, where: str) -> int:
    """Number of nodes of the document with every alias expanded, computed once per shared node; refuses
    a mapping that defines a key twice."""
    sizes: dict[int, int] = {}

    def size(item: yaml.Node) -> int:
        if id(item) in sizes:
            return sizes[id(item)]
        sizes[id(item)] = 1  # a node that contains itself counts once
        total = 1
        if isinstance(item, yaml.MappingNode):
            keys = [k.value for k, _ in item.value if isinstance(k, yaml.ScalarNode)]
            twice = sorted({k for k in keys if keys.count(k) > 1 and k != "<<"})
            if twice:
                line = item.start_mark.line + 1
                raise UserError(f"{where}: key {twice[0]!r} is defined twice (in the block at line {line})")
            total += sum(size(k) + size(v) for k, v in item.value)
        elif isinstance(item, yaml.SequenceNode):
            total += sum(size(v) for v in item.value)
        sizes[id(item)] = min(total, MAX_NODES + 1)
        return sizes[id(item)]

    return size(node)


def read_yaml(path: str | Path, what: str) -> object:
    """Read a user's YAML file as plain data.

    Parameters
    ----------
    path : str or Path
        The file.
    what : str
        What the file is, for messages (``catalog``, ``mapping file``).

    Returns
    -------
    object
        The document (``None`` for an empty file).

    Raises
    ------
    UserError
        The file cannot be read, is larger than 1 MB, is not valid YAML, defines a key twice, or expands
        (through aliases) to more than 200,000 nodes.
    """
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise UserError(
                f"{path}: the {what} is {size:,} bytes; a {what} is at most {MAX_BYTES:,} bytes",
                hint="is this the right file?",
            )
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UserError(
            f"{path}: the {what} is not UTF-8 text (byte {exc.start})", hint="save it as UTF-8"
        ) from None
    except OSError as exc:
        raise UserError(f"{path}: cannot read the {what} ({exc.strerror})") from None
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if _expanded_size(node, str(path)) > MAX_NODES:
            raise UserError(
                f"{path}: the {what}'s aliases (*name) expand to more than {MAX_NODES:,} values",
                hint="write the values out, or use fewer nested aliases",
            )
        return loader.construct_document(node)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise UserError(f"{path}: not valid YAML{where}: {problem}") from None
    finally:
        loader.dispose()
