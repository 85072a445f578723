"""Every key of the terminal UI, in one table: the bindings, the footer and the help screen
are built from it, so the help screen cannot forget a key."""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding


@dataclass(frozen=True)
class Key:
    keys: str  # Textual key names, comma-separated ("plus,equals_sign"); "" for a widget's
    display: str  # as shown to people ("+")
    label: str  # short, for the footer
    description: str  # for the help screen
    action: str = ""  # the action bound to it (on the app or on the search screen)
    #: where it works: results (on the selected result), main (anywhere but in a text
    #: field), anywhere, query bar, chips, dialogs, mouse
    where: str = "results"
    footer: bool = True


#: app-level commands: they work wherever the focus is not in a text field (but those
#: ``where="anywhere"``)
COMMANDS: tuple[Key, ...] = (
    Key("enter", "enter", "Open", "Open the selected item: the system viewer, else $EDITOR (at "
        "the line) or $PAGER", "open"),
    Key("m", "m", "More like", "More like this: items near the selected one",
        "more_like_this"),
    Key("plus,equals_sign", "+", "Like", "Like the selected item (shown as a chip)", "like"),
    Key("minus,underscore", "-", "Unlike", "Unlike the selected item (shown as a chip)",
        "unlike"),
    Key("y", "y", "Copy path", "Copy the selected item's path (or id)", "copy", footer=False),
    Key("Y", "Y", "Copy text", "Copy the selected item's text (its matching chunk)",
        "copy_text", footer=False),
    Key("a", "a", "All", "Show the hits below the relevance floor too (again: hide them)",
        "toggle_all", where="main"),
    Key("r", "r", "Recommend", "Recommend from the likes and dislikes so far", "recommend",
        where="main"),
    Key("x", "x", "Clear likes", "Forget every like and dislike", "clear_taste",
        where="main", footer=False),
    Key("t", "t", "Type", "Show both, images only or texts only", "cycle_type", where="main",
        footer=False),
    Key("s", "s", "Sort", "Sort by relevance, date (newest first) or path", "cycle_sort",
        where="main", footer=False),
    Key("g", "g", "Grid", "Show the results as a grid or a list", "toggle_grid",
        where="main"),
    Key("d", "d", "Density", "List rows with large thumbnails (comfortable) or small ones "
        "(compact)", "toggle_density", where="main", footer=False),
    Key("M", "M", "Map", "The collection's map: named clusters, hits ringed; enter lists a "
        "cluster", "map", where="main", footer=False),
    Key("c", "c", "Collection", "Switch collection", "switch_collection", where="main"),
    Key("i", "i", "Ingest", "Ingest a file or folder, with a progress bar", "ingest",
        where="main"),
    Key("slash", "/", "Query", "Go to the query bar", "focus_query", where="main",
        footer=False),
    Key("question_mark", "?", "Help", "This help screen: every key", "help", where="main"),
    Key("f1,ctrl+underscore", "F1", "Help", "This help screen, in text fields too (ctrl+/ "
        "where the terminal sends it)", "help_anywhere", where="anywhere", footer=False),
    Key("q", "q", "Quit", "Quit", "quit_app", where="main"),
)

#: keys handled by widgets, listed in the help screen too
OTHER_KEYS: tuple[Key, ...] = (
    Key("", "ctrl+q", "", "Quit, from anywhere", where="anywhere"),
    Key("", "tab  shift+tab", "",
        "Next / previous field: query, type, sort, k, filters, chips, results", where="anywhere"),
    Key("", "(type)", "",
        "Search as you type; an image's path (typed, pasted or dropped) searches by image",
        where="query bar"),
    Key("", "enter  down  esc", "", "Search now and go to the results", where="query bar"),
    Key("", "enter  esc", "", "Apply k or the filters now / go to the results",
        where="k, filters"),
    Key("", "tab  right", "", "Complete a metadata key, folder:, since: or until:",
        where="filters"),
    Key("", "up down left right", "", "Move through the results (left, right: in the grid)"),
    Key("", "pgup pgdn home end", "", "Jump through the results; at the end the next page "
        "loads"),
    Key("", "enter  del", "", "Remove the like or dislike", where="chips"),
    Key("", "esc", "", "Close a dialog", where="dialogs"),
    Key("", "click", "", "Select a result (double-click opens it), remove a chip, run a key "
        "of the footer", where="mouse"),
)

ALL_KEYS: tuple[Key, ...] = COMMANDS + OTHER_KEYS
#: actions that are off while a text field has the focus
ACTIONS: frozenset[str] = frozenset(k.action for k in COMMANDS if k.where != "anywhere")
#: actions on the selected result
ON_SELECTION: frozenset[str] = frozenset(k.action for k in COMMANDS if k.where == "results")
#: actions of the app itself, bound on every screen (the others are the search screen's)
APP_WIDE: frozenset[str] = frozenset({"help", "help_anywhere", "quit_app"})


def bindings(app_wide: bool) -> list[Binding]:
    """The app's own bindings (``app_wide``), or the search screen's. The footer lists the
    screen's keys before the app's: the app's come last in :data:`COMMANDS` to match."""
    return [Binding(k.keys, k.action, k.label, show=k.footer, key_display=k.display)
            for k in COMMANDS if (k.action in APP_WIDE) == app_wide]
