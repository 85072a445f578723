"""Every key of the terminal UI, in one table: the bindings, the footer and the help screen
are built from it, so the help screen cannot forget a key."""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding


@dataclass(frozen=True)
class Key:
    keys: str  # Textual key names, comma-separated ("plus,equals_sign"); "" if a widget's
    display: str  # as shown to people ("+")
    label: str  # short, for the footer
    description: str  # for the help screen
    action: str = ""  # the app action bound to it
    where: str = "results"  # where it works: results, anywhere, query bar, chips, dialogs
    footer: bool = True


#: app-level commands: they work wherever the focus is not in a text field
COMMANDS: tuple[Key, ...] = (
    Key("enter", "enter", "Open", "Open the selected item with the system viewer", "open"),
    Key("m", "m", "More like this", "More like this: items near the selected one",
        "more_like_this"),
    Key("plus,equals_sign", "+", "Like", "Like the selected item (shown as a chip)", "like"),
    Key("minus,underscore", "-", "Unlike", "Unlike the selected item (shown as a chip)",
        "unlike"),
    Key("r", "r", "Recommend", "Recommend from the likes and dislikes so far", "recommend"),
    Key("x", "x", "Clear likes", "Forget every like and dislike", "clear_taste", footer=False),
    Key("t", "t", "Type", "Show both, images only or texts only", "cycle_type"),
    Key("g", "g", "Grid", "Show the results as a grid or a list", "toggle_grid"),
    Key("y", "y", "Copy path", "Copy the selected item's path (or id)", "copy", footer=False),
    Key("c", "c", "Collection", "Switch collection", "switch_collection"),
    Key("i", "i", "Ingest", "Ingest a file or folder, with a progress bar", "ingest"),
    Key("slash", "/", "Query", "Go to the query bar", "focus_query", footer=False),
    Key("question_mark", "?", "Help", "This help screen: every key", "help"),
    Key("q", "q", "Quit", "Quit", "quit"),
)

#: keys handled by widgets, listed in the help screen too
OTHER_KEYS: tuple[Key, ...] = (
    Key("", "ctrl+q", "", "Quit, from anywhere", where="anywhere"),
    Key("", "tab  shift+tab", "",
        "Next / previous field: query, type, k, filters, chips, results", where="anywhere"),
    Key("", "(type)", "",
        "Search as you type; an image's path (typed, pasted or dropped) searches by image",
        where="query bar"),
    Key("", "enter  down  esc", "", "Search now and go to the results", where="query bar"),
    Key("", "up down left right", "", "Move through the results (left, right: in the grid)"),
    Key("", "pgup pgdn home end", "", "Jump through the results"),
    Key("", "click  double-click", "", "Select a result; open it"),
    Key("", "enter  del  click", "", "Remove a like or dislike chip", where="chips"),
    Key("", "esc", "", "Close a dialog", where="dialogs"),
)

ALL_KEYS: tuple[Key, ...] = COMMANDS + OTHER_KEYS


def bindings() -> list[Binding]:
    return [Binding(k.keys, k.action, k.label, show=k.footer, key_display=k.display)
            for k in COMMANDS]
