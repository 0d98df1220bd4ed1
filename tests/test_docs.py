"""The docs match the code: the configuration reference is generated from the typed model
(and this test proves a stale one fails), every config table, CLI command and module the
docs name exists, and the examples load."""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import importlib.util
import re
import tomllib
from pathlib import Path

import pytest

from opsdesk.console.cli import build_parser
from opsdesk.console.config import loader, reference
from opsdesk.console.config.model import Config, QueueConfig
from tests.conftest import ROOT

CONFIGURATION = ROOT / "docs" / "configuration.md"
README = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").glob("*.md"))
ALL_DOCS = [README, *DOCS]
# Files of the plugin package that `opsdesk plugins new` writes, shown in docs/plugins.md.
PLUGIN_PACKAGE_FILES = {"tests/test_adapter.py", "tests/payload.json"}


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def _name(path: Path) -> str:
    return str(path.relative_to(ROOT))


# -- the configuration reference ---------------------------------------------------------


def test_key_reference_is_generated_from_the_model() -> None:
    text = _read(CONFIGURATION)
    assert reference.generated_section(text, "keys") == reference.reference(), (
        f"docs/configuration.md is stale; run {reference.COMMAND}"
    )


def test_generated_meanings_render_literally() -> None:
    """Outside code spans, `<token>` would vanish as an HTML tag on GitHub."""
    for row in reference.rows():
        bare = re.sub(r"`[^`]*`", "", row.meaning)
        assert not re.search(r"<\w", bare), f"{row.table} {row.key}: put <...> in backticks"


def test_plugin_options_reference_is_generated_from_the_plugins() -> None:
    text = _read(CONFIGURATION)
    built = reference.plugin_reference(reference.builtin_plugin_options())
    assert reference.generated_section(text, "plugin options") == built, (
        f"docs/configuration.md is stale; run {reference.COMMAND}"
    )
    assert {"statuspage", "alertmanager", "http"} <= set(reference.builtin_plugin_options())


def test_check_command_agrees(tmp_path: Path) -> None:
    copy = tmp_path / "configuration.md"
    copy.write_text(_read(CONFIGURATION), encoding="utf-8")
    assert reference.main(["--check", str(copy)]) == 0
    section = reference.reference()
    stale = _read(CONFIGURATION).replace(section, section.replace("reopen_days", "reopen_dayz"))
    copy.write_text(stale, encoding="utf-8")
    assert reference.main(["--check", str(copy)]) == 1
    assert reference.main(["--write", str(copy)]) == 0
    assert _read(copy) == _read(CONFIGURATION)


def test_every_top_level_table_appears() -> None:
    section = reference.generated_section(_read(CONFIGURATION), "keys")
    for field in dataclasses.fields(Config):
        headers = (f"`[{field.name}]`", f"`[[{field.name}]]`")
        assert any(h in section for h in headers), f"{field.name} is not in the reference"


def test_every_key_the_schema_reads_has_a_row() -> None:
    """Every field of every record reachable from Config, and the keys the old docs got
    wrong or left out."""
    tables = reference.tables()
    assert {"plugin", "url", "interval", "<plugin option>"} <= tables["[[sources]]"]
    assert {"auto_assign", "auto_escalate", "reopen_days"} <= tables["[queue]"]
    assert "[[vendors.sources]]" not in tables
    assert "sources" not in tables["[[vendors]]"]
    assert tables["[sla.calendars.<name>]"] >= {"from", "to", "timezone"}


def test_a_new_field_changes_the_reference() -> None:
    """What the staleness test relies on: a documented field added to the model (at the
    top or inside a table) changes the generated text."""
    current = reference.reference()
    extra = dataclasses.make_dataclass(
        "Config",
        [("pager", str, dataclasses.field(default="", metadata={"doc": "Where pages go."}))],
        bases=(Config,),
    )
    assert reference.reference(extra) != current
    assert "| `(top level)` | `pager` | string |" in reference.reference(extra)
    queue = dataclasses.make_dataclass(
        "QueueConfig",
        [("auto_page", bool, dataclasses.field(default=False, metadata={"doc": "Page."}))],
        bases=(QueueConfig,),
    )
    nested = dataclasses.make_dataclass(
        "Config",
        [("queue", queue, dataclasses.field(default_factory=queue, metadata={"doc": "Queue."}))],
        bases=(Config,),
    )
    assert "| `[queue]` | `auto_page` | boolean | `false` | Page. |" in reference.reference(nested)


def test_a_field_without_doc_is_refused() -> None:
    extra = dataclasses.make_dataclass(
        "QueueConfig", [("auto_page", bool, dataclasses.field(default=False))], bases=(QueueConfig,)
    )
    with pytest.raises(reference.UndocumentedKeys) as caught:
        reference.rows(extra)
    assert caught.value.keys == ["(top level) auto_page"]


def test_generated_sections_keep_the_prose_around_them() -> None:
    text = "before\n<!-- generated: keys -->\nold\n<!-- end generated -->\nafter\n"
    updated = reference.with_section(text, "keys", "new\n")
    assert updated == "before\n<!-- generated: keys -->\nnew\n<!-- end generated -->\nafter\n"
    with pytest.raises(ValueError, match="generated: keys"):
        reference.generated_section("no markers", "keys")


# -- examples ----------------------------------------------------------------------------


def test_sample_toml_loads() -> None:
    config = loader.load(str(ROOT / "sample.toml")).config
    assert config.sources and config.queue.auto_escalate


def test_sample_toml_uses_only_documented_tables() -> None:
    tables = reference.tables()
    patterns = [_header_pattern(header) for header in tables]
    for line in _read(ROOT / "sample.toml").splitlines():
        match = re.match(r"^#?\s*(\[\[?[\w.]+\]\]?)\s*$", line)
        if match:
            assert any(p.fullmatch(match.group(1)) for p in patterns), match.group(1)


def test_configuration_examples_load() -> None:
    """The TOML examples in docs/configuration.md are valid config (with the vendors and
    services they refer to)."""
    blocks = re.findall(r"```toml\n(.*?)```", _read(CONFIGURATION), re.DOTALL)
    assert blocks
    for block in blocks:
        data = tomllib.loads(block)
        names = {s.get("vendor") for s in data.get("sources", [])} - {None}
        data.setdefault("vendors", [{"name": name} for name in sorted(names)])
        services = {s.get("service") for s in data.get("sources", [])} - {None}
        data.setdefault("services", [{"name": name} for name in sorted(services)])
        loader.parse_sources([("docs/configuration.md", data)])


# -- names the docs mention --------------------------------------------------------------


def _header_pattern(header: str) -> re.Pattern[str]:
    """`[sla.calendars.<name>]` matches `[sla.calendars.business]` and `[sla.calendars.<x>]`."""
    parts = re.split(r"(<[^>]+>)", header)
    body = "".join(r"[^.\]\s]+" if p.startswith("<") else re.escape(p) for p in parts)
    return re.compile(body)


def test_config_tables_and_keys_named_in_the_docs_exist() -> None:
    """`[[vendors.sources]]`, `[ui] thme` and the like in any doc fail here."""
    tables = reference.tables()
    patterns = {header: _header_pattern(header) for header in tables}
    mention = re.compile(r"`(\[\[?[a-z_][\w.<>/]*\]\]?)(?: (\w+))?(?: = [^`]*)?`")
    checked = 0
    for path in ALL_DOCS:
        for table, key in mention.findall(_read(path)):
            if table == "[[arrays]]":  # the generic word, in README's merge rules
                continue
            found = [h for h, p in patterns.items() if p.fullmatch(table)]
            assert found, f"{_name(path)}: {table} is not a config table"
            if key:
                assert any(key in tables[h] for h in found), f"{_name(path)}: {table} {key}"
            checked += 1
    assert checked > 20


def _readme_commands() -> list[tuple[list[str], set[str]]]:
    """(command words, options) for every command README's CLI reference table shows.
    A code span that does not start with `opsdesk` continues the previous one: `opsdesk
    incident take KEY`, `assign KEY LOGIN` is `incident assign`."""
    text = _read(README)
    section = text[text.index("## CLI reference") :]
    section = section[: section.index("\n## ", 3)]
    found: list[tuple[list[str], set[str]]] = []
    for line in section.splitlines():
        if not line.startswith("| `opsdesk"):
            continue
        first = re.split(r"(?<!\\)\|", line)[1]
        previous: list[str] = []
        for span in re.findall(r"`([^`]+)`", first):
            span = span.replace("\\|", "|")
            tokens = span.split()
            start = tokens[0] == "opsdesk"
            words: list[str] = []
            for token in tokens[1:] if start else tokens:
                if not re.fullmatch(r"[a-z][a-z-]*(\|[a-z][a-z-]*)*", token):
                    break
                words.append(token)
            if not start:
                words = previous[: len(previous) - len(words)] + words
            options = set(re.findall(r"(?<![\w-])(--?[a-z][\w-]*)", span))
            found.append((words, options))
            previous = words
    return found


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _expand(words: list[str]) -> list[list[str]]:
    paths: list[list[str]] = [[]]
    for word in words:
        paths = [[*path, choice] for path in paths for choice in word.split("|")]
    return paths


def test_cli_reference_commands_exist() -> None:
    root = build_parser()
    rows = _readme_commands()
    assert len(rows) > 40
    for words, options in rows:
        for path in _expand(words):
            parser = root
            for word in path:
                children = _subcommands(parser)
                assert word in children, f"README: opsdesk {' '.join(path)}: no {word!r}"
                parser = children[word]
            known = set(parser._option_string_actions) | set(root._option_string_actions)
            unknown = options - known
            assert not unknown, f"README: opsdesk {' '.join(path)} has no {sorted(unknown)}"


def test_every_cli_command_is_in_the_reference() -> None:
    shown = {" ".join(path) for words, _ in _readme_commands() for path in _expand(words)}

    def leaves(parser: argparse.ArgumentParser, path: list[str]) -> list[str]:
        children = _subcommands(parser)
        if not children:
            return [" ".join(path)]
        return [leaf for name, child in children.items() for leaf in leaves(child, [*path, name])]

    missing = [leaf for leaf in leaves(build_parser(), []) if leaf not in shown]
    assert not missing, f"add these to README's CLI reference: {missing}"


def test_global_options_exist() -> None:
    text = _read(README)
    sentence = text[text.index("Global options") : text.index("Times in `--json`")]
    options = {o.replace("-vv", "-v") for o in re.findall(r"`(--?[a-z][\w-]*)", sentence)}
    assert {"--config", "--store", "--read-only", "--log-file", "-v"} <= options
    assert options <= set(build_parser()._option_string_actions)


def _resolves(dotted: str) -> bool:
    """A module, or an attribute of the longest module prefix."""
    parts = dotted.split(".")
    for end in range(len(parts), 1, -1):
        name = ".".join(parts[:end])
        try:
            spec = importlib.util.find_spec(name)
        except ModuleNotFoundError:
            continue
        if spec is None:
            continue
        target: object = importlib.import_module(name)
        for attribute in parts[end:]:
            if not hasattr(target, attribute):
                return False
            target = getattr(target, attribute)
        return True
    return False


def test_module_paths_in_the_docs_exist() -> None:
    files = re.compile(r"(?<![\w/.-])((?:console|screens|store|plugins|tests|bench|docs)/[\w/.-]*)")
    modules = re.compile(r"(?<![\w.])(opsdesk\.(?:console|screens|store|plugins)(?:\.\w+)*)")
    checked = 0
    for path in ALL_DOCS:
        text = _read(path)
        for mention in files.findall(text):
            mention = mention.rstrip(".")
            if path.name == "plugins.md" and mention in PLUGIN_PACKAGE_FILES:
                continue
            if "<" in mention or mention.endswith(("NNNN_name.sql", "name.py")):
                continue
            assert (ROOT / mention).exists(), f"{_name(path)}: {mention} does not exist"
            checked += 1
        for mention in modules.findall(text):
            assert _resolves(mention), f"{_name(path)}: {mention} does not exist"
            checked += 1
    assert checked > 20


def test_architecture_names_every_layer() -> None:
    text = _read(ROOT / "docs" / "architecture.md")
    for layer in ("cli", "tui", "ops", "domain", "config"):
        assert f"console/{layer}/" in text
    for folder in ("screens/", "store/", "plugins/"):
        assert folder in text
    assert "docs/architecture.md" in _read(README)
