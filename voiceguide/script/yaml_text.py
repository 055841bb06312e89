"""A file's bytes to YAML nodes that keep their line and column, and YAML mistakes in plain words.

``compose`` decodes UTF-8 and composes the nodes (``yaml.compose``: no values are built, so no tag
can run code); ``check_nodes`` walks them once as ``yaml.safe_load`` would, aliases expanded, to
stop alias bombs and refuse tags. A syntax error is reported where the mistake most likely is, which
is not always where PyYAML noticed it (a key without its colon is noticed on the next line), in
words a routine's author can act on, with the fix: ``yaml_text.syntax_message`` below.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from yaml.resolver import Resolver

from voiceguide.core.errors import Where
from voiceguide.script.kinds import Context

MAX_NODES = 100_000
"""The most YAML nodes a routine may hold, counting each use of an alias again."""
PREFIX = "YAML syntax error: "


def read_bytes(file: Path, ctx: Context) -> bytes | None:
    """The file's bytes, or ``None`` after reporting why they cannot be read."""
    try:
        return file.read_bytes()
    except OSError as exc:
        ctx.report(Where(ctx.file, 1, 1), f"cannot read the file: {exc.strerror}")
        return None


def compose(data: bytes | None, ctx: Context, empty: str | None) -> yaml.Node | None:
    """The file's YAML nodes, or ``None`` after reporting why there are none (for an empty file,
    the problem ``empty``, if given; ``data`` is ``None`` for a file that could not be read)."""
    if data is None:
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, col = end_of(data[: exc.start].decode("utf-8", errors="replace"))
        ctx.report(Where(ctx.file, line, col), "the file is not valid UTF-8 text")
        return None
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        line, col, message = syntax_message(exc, text.splitlines())
        ctx.report(Where(ctx.file, line, col), PREFIX + message)
        return None
    except yaml.reader.ReaderError as exc:  # a control character; it has a position, not a mark
        line, col = end_of(text[: exc.position])
        ctx.report(Where(ctx.file, line, col), f"{PREFIX}{_character(exc)}")
        return None
    except RecursionError:
        ctx.report(Where(ctx.file, 1, 1), "the document is nested too deeply")
        return None
    if root is None and empty is not None:
        ctx.report(Where(ctx.file, 1, 1), empty)
    return root


def end_of(prefix: str) -> tuple[int, int]:
    """The 1-based line and column just after ``prefix``, the text before some place."""
    return prefix.count("\n") + 1, len(prefix) - (prefix.rfind("\n") + 1) + 1


def _character(exc: yaml.reader.ReaderError) -> str:
    code = exc.character if isinstance(exc.character, int) else ord(exc.character)
    return f"the control character U+{code:04X}, which a routine's text may not hold: remove it"


# --- Syntax errors in plain words --------------------------------------------------------------

_KEY = re.compile(r"\s*(?:-\s+)*(?P<key>[^\s#'\"\[\]{}&*!|>%@`,][^:#\[\]{}]*?):(?:\s|$)")
"""A line that starts with ``key:`` (after any ``- ``)."""
_WORD_THEN_VALUE = re.compile(r"\s*(?:-\s+)*[A-Za-z_][A-Za-z0-9_]* +[\[{'\"]")
"""A line that starts with a name, a space and a flow value or a quote: a key without its colon."""
_FLOW = {"flow mapping": ("{", "}"), "flow sequence": ("[", "]")}


def syntax_message(exc: yaml.MarkedYAMLError, lines: list[str]) -> tuple[int, int, str]:
    """Where a YAML syntax mistake most likely is (1-based line and column) and what to do about
    it, for the common ones: a key without its colon, a line indented wrong, a tab, a quote or
    bracket never closed, an alias of no anchor, a second document. Other errors keep PyYAML's words."""
    problem, context = exc.problem or "", exc.context or ""
    at, start = exc.problem_mark, exc.context_mark
    line, col = (at.line, at.column) if at is not None else (start.line, start.column) if start else (0, 0)

    if problem == "could not find expected ':'" and start is not None:
        return _no_colon(start.line, _at(lines, start.line))
    if problem.startswith("found character '\\t'"):
        return line + 1, col + 1, ("a tab character: YAML indents with spaces only, never tabs; "
                                   "replace the tab with spaces")
    if context == "while scanning a quoted scalar" and start is not None:
        quote = _at(lines, start.line)[start.column: start.column + 1] or '"'
        return start.line + 1, start.column + 1, (
            f"the quote {quote} that starts here is never closed; end the text with {quote} "
            + ("(write a \" inside it as \\\")" if quote == '"' else "(write a ' inside it as '')"))
    flow = next((kind for kind in _FLOW if context == f"while parsing a {kind}"), None)
    if flow is not None and start is not None:
        opening, closing = _FLOW[flow]
        where = "before the file ends" if "<stream end>" in problem else f"before line {line + 1}"
        return start.line + 1, start.column + 1, (
            f"the '{opening}' that opens here is not closed {where}; end it with '{closing}' "
            f"(items inside are separated by ',')")
    if "'<stream end>'" in problem and (opened := _unclosed(lines)) is not None:
        n, c, opening = opened
        return n + 1, c + 1, (f"the '{opening}' that opens here is not closed before the file ends; end it with "
                              f"'{']' if opening == '[' else '}'}'")
    if problem.startswith("found undefined alias"):
        name = problem.split("'")[1] if problem.count("'") >= 2 else "?"
        return line + 1, col + 1, (f"'*{name}' repeats a value marked '&{name}', but no value above is marked so; "
                                   f"mark one with '&{name}', or write the value here")
    if context == "expected a single document in the stream":
        return line + 1, col + 1, ("a second document starts here ('---'); a file holds one (routine, snippet "
                                   "or defaults): remove this line and what follows, or put it in a file of its own")
    if problem == "mapping values are not allowed here" or problem.startswith(
            ("expected <block end>, but found", "expected '<document start>', but found")):
        return _misplaced(exc, line, col, lines)
    words = f"{context} {problem}" if context and problem.startswith("but ") else problem or context
    return line + 1, col + 1, words or "unreadable YAML"


def _unclosed(lines: list[str]) -> tuple[int, int, str] | None:
    """The last ``[`` or ``{`` left open (0-based line and column), outside quotes and comments."""
    stack: list[tuple[int, int, str]] = []
    for n, line in enumerate(lines):
        quote = None
        for c, char in enumerate(line):
            if quote is not None:
                quote = None if char == quote else quote
            elif char in "'\"" and (c == 0 or line[c - 1] in " [{,:"):
                quote = char
            elif char == "#" and (c == 0 or line[c - 1] == " "):
                break
            elif char in "[{":
                stack.append((n, c, char))
            elif char in "]}" and stack:
                stack.pop()
    return stack[-1] if stack else None


def _no_colon(n: int, line: str) -> tuple[int, int, str]:
    """Line ``n`` (0-based) holds a key without its ``:``."""
    body = line.strip()
    dash = re.match(r"(-\s+)*", body).group()
    written = body[len(dash):]
    col = len(line) - len(line.lstrip()) + len(dash)
    key, _, rest = written.partition(" ")
    fix = f"{dash}{key}: {rest.strip()}".rstrip() if rest.strip() else f"{dash}{key}:"
    return n + 1, col + 1, (f"'{written}' has no ':' after its key; a field is written 'name: value' "
                            f"(did you mean '{fix}'?)")


def _misplaced(exc: yaml.MarkedYAMLError, line: int, col: int, lines: list[str]) -> tuple[int, int, str]:
    """A ``key:`` where the line above leaves no room for one, or a line that does not line up
    with the keys above it."""
    here = _at(lines, line)
    key = _KEY.match(here)
    if key is None and _WORD_THEN_VALUE.match(here):
        return _no_colon(line, here)
    if exc.problem == "mapping values are not allowed here" and key is not None and key.end() <= col:
        value = here[key.end():].strip()
        return line + 1, key.end() + 1, (f"the value of '{key['key'].strip()}' holds ': ', which YAML reads as "
                                          f"another key; put the value in quotes: "
                                          f"{key['key'].strip()}: \"{value}\"")
    if "found '<scalar>'" in exc.problem and here[:col].rstrip().endswith(("'", '"')):
        return line + 1, col + 1, ("text after the closing quote; put the whole value in the quotes (in '...' "
                                   "a ' is written '', in \"...\" a \" is written \\\"), or leave the quotes out")
    above = _content_line_above(line, lines)
    if above is not None and _BLOCK_KEY_WITHOUT_COLON.fullmatch(_at(lines, above)):
        return _no_colon(above, _at(lines, above))  # "en >": the block of text below it reads as its key
    if above is not None and _KEY.match(_at(lines, above)) is None and not _item_only(_at(lines, above)):
        owner = _owner(above, lines)
        if owner is None:
            return _no_colon(_block_key_without_colon(above, lines), _at(lines, _block_key_without_colon(above, lines)))
        above = owner  # the line above continues a text: compare with the key it belongs to
    indent = _indent(here)
    word = (key["key"].strip() if key is not None else here.strip().split(" ")[0]) or "this line"
    if above is None:
        return line + 1, indent + 1, f"'{word}' is indented, but nothing above it holds it; start it at column 1"
    opener = _opener(above, lines)
    if opener is not None and _indent(_at(lines, opener)) < indent < _indent(_at(lines, above)) \
            and _content_line_below(opener, lines) != above:
        above = opener  # between a block and the key that opens it: out of line with that key
    above_key = _KEY.match(_at(lines, above))
    above_col = above_key.start("key") if above_key is not None else _indent(_at(lines, above))
    name = above_key["key"].strip() if above_key is not None else _at(lines, above).strip()
    if indent < above_col and (top := _outermost_deeper(above, indent, lines)) != above:
        before = _content_line_above(top, lines)
        if before is None or _indent(_at(lines, before)) < indent:  # it opened a block the lines after it leave
            top_key = _KEY.match(_at(lines, top))
            top_name = top_key["key"].strip() if top_key is not None else _at(lines, top).strip()
            return top + 1, _indent(_at(lines, top)) + 1, (
                f"'{top_name}' is indented more than '{word}' on line {line + 1} and the lines after it; line it "
                f"up with them (column {indent + 1})")
    before, after = _content_line_above(above, lines), _content_line_below(line, lines)
    if (indent < above_col and after is not None and _indent(_at(lines, after)) == indent
            and (before is None or _indent(_at(lines, before)) < above_col)):  # the first key is the odd one out
        return above + 1, above_col + 1, (f"'{name}' is indented more than '{word}' on line {line + 1} and the "
                                          f"lines after it; line it up with them (column {indent + 1})")
    how = "more" if indent > above_col else "less"
    item = ", or start a new list item with '- '" if _at(lines, above).lstrip().startswith("- ") else ""
    return line + 1, indent + 1, (f"'{word}' is indented {how} than '{name}' on line {above + 1}; line it up "
                                  f"with '{name}' (column {above_col + 1}){item}")


def _outermost_deeper(n: int, indent: int, lines: list[str]) -> int:
    """The outermost line holding line ``n`` (0-based) that is still indented more than ``indent``:
    for ``en: ...`` under ``title:``, the ``title:`` line (``n`` itself when nothing holds it)."""
    while (parent := _opener(n, lines)) is not None and _indent(_at(lines, parent)) > indent:
        n = parent
    return n


def _opener(n: int, lines: list[str]) -> int | None:
    """The nearest line above line ``n`` (0-based) indented less than it: the key whose block holds it."""
    return next((m for m in range(n - 1, -1, -1) if _at(lines, m).strip() and not _at(lines, m).strip().startswith("#")
                 and _indent(_at(lines, m)) < _indent(_at(lines, n))), None)


def _content_line_above(line: int, lines: list[str]) -> int | None:
    """The nearest line above ``line`` (0-based) that holds more than a comment or blanks."""
    for n in range(line - 1, -1, -1):
        stripped = _at(lines, n).strip()
        if stripped and not stripped.startswith("#"):
            return n
    return None


def _content_line_below(line: int, lines: list[str]) -> int | None:
    """The nearest line below ``line`` (0-based) that holds more than a comment or blanks."""
    for n in range(line + 1, len(lines)):
        stripped = lines[n].strip()
        if stripped and not stripped.startswith("#"):
            return n
    return None


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _at(lines: list[str], n: int) -> str:
    """Line ``n`` (0-based), or "" past either end."""
    return lines[n] if 0 <= n < len(lines) else ""


def _owner(n: int, lines: list[str]) -> int | None:
    """The line of the field whose text line ``n`` (0-based, no ``key:`` on it) continues, as
    ``  the neck.`` continues ``say: Stroke down``: that field's value starts on its line and
    line ``n`` is indented past its key. ``None`` when it continues none."""
    indent = _indent(_at(lines, n))
    above = _content_line_above(n, lines)
    while above is not None and _KEY.match(_at(lines, above)) is None and _indent(_at(lines, above)) == indent:
        above = _content_line_above(above, lines)
    key = _KEY.match(_at(lines, above)) if above is not None else None
    if key is not None and _at(lines, above)[key.end():].strip() != "" and indent > key.start("key"):
        return above
    return None


_BLOCK_KEY_WITHOUT_COLON = re.compile(r"\s*(?:-\s+)*[A-Za-z_][\w-]*\s+[>|][-+]?\s*$")


def _block_key_without_colon(n: int, lines: list[str]) -> int:
    """The line of the mistake when line ``n`` (0-based) ends a run of text lines: the line that
    opens the run when it is a key without its colon before a block of text (``en >``), whose
    lines PyYAML then read on as one plain text; else ``n`` itself."""
    indent = _indent(_at(lines, n))
    above = _content_line_above(n, lines)
    while above is not None and _KEY.match(_at(lines, above)) is None and _indent(_at(lines, above)) == indent:
        above = _content_line_above(above, lines)
    if above is not None and _indent(_at(lines, above)) < indent and _BLOCK_KEY_WITHOUT_COLON.fullmatch(_at(lines, above)):
        return above
    return n


def _item_only(line: str) -> bool:
    """Whether the line ends a value that cannot run on into the next line: a quoted or flow one,
    a block scalar's start, a document marker. (A plain scalar can: a key without its colon, read
    with the next line as one text, is what PyYAML then stumbles on.)"""
    body = line.strip()
    return body.startswith(("---", "[", "{", "'", '"', "- [", "- {", "- '", '- "')) or body == "-" \
        or body.endswith(("|", ">", "|-", ">-"))


# --- The node walk ----------------------------------------------------------------------------


def check_nodes(root: yaml.Node, ctx: Context) -> bool:
    """Walk every node as ``yaml.safe_load`` would build it, aliases expanded, before reading any.

    Stops past ``MAX_NODES`` nodes (alias bombs, alias cycles), and reports explicit tags that
    would change a value (``!!python/...``, ``!!float 1``, ``!foo``); ``!!str`` is fine. After
    this walk every scalar converts without error. Returns whether nothing was wrong.
    """
    resolver = Resolver()
    pending = [root]
    visited = 0
    ok = True
    while pending:
        node = pending.pop()
        visited += 1
        if visited > MAX_NODES:
            ctx.reject(root, "", "the document is too large (or expands too many aliases)")
            return False
        if not _plain_tag(node, resolver):
            tag = node.tag.replace("tag:yaml.org,2002:", "!!")
            ctx.reject(node, "", f"YAML tag '{tag}' is not allowed here; only plain YAML is read")
            ok = False
        if isinstance(node, yaml.SequenceNode):
            pending.extend(node.value)
        elif isinstance(node, yaml.MappingNode):
            pending.extend(child for pair in node.value for child in pair)
    return ok


def _plain_tag(node: yaml.Node, resolver: Resolver) -> bool:
    """Whether the node's tag is the one plain YAML gives it (or ``!!str`` on a scalar)."""
    if isinstance(node, yaml.ScalarNode):
        implicit = resolver.resolve(yaml.ScalarNode, node.value, (True, False))
        return node.tag in ("tag:yaml.org,2002:str", implicit)
    if isinstance(node, yaml.SequenceNode):
        return node.tag == "tag:yaml.org,2002:seq"
    return node.tag == "tag:yaml.org,2002:map"
