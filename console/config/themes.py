"""The names of Textual's built-in themes, as data, so the config layer can check
`[ui] theme` without importing Textual (tests/test_config_checks.py keeps this list equal to
`textual.theme.BUILTIN_THEMES`, so a Textual upgrade that changes them fails a test)."""

from __future__ import annotations

BUILTIN_THEME_NAMES: tuple[str, ...] = (
    "textual-dark",
    "textual-light",
    "nord",
    "gruvbox",
    "catppuccin-mocha",
    "dracula",
    "tokyo-night",
    "monokai",
    "flexoki",
    "catppuccin-latte",
    "catppuccin-frappe",
    "catppuccin-macchiato",
    "solarized-light",
    "solarized-dark",
    "rose-pine",
    "rose-pine-moon",
    "rose-pine-dawn",
    "atom-one-dark",
    "atom-one-light",
    "ansi-dark",
    "ansi-light",
)
