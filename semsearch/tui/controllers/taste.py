"""Likes and dislikes: the chips above the results, recommendations from them, and the
profile that keeps them across runs (``create_app(profile=...)``)."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from ..messages import Notice
from ..notices import guarded, unexpected
from ..state import Polarity, Request, hit_label, plural, ref_label
from ..widgets.chips import ChipWidget
from .base import Controller

if TYPE_CHECKING:
    from ..screens.search import SearchScreen


class TasteKeeper(Controller):
    """Owns the screen's ``taste`` and the chips bar."""

    def __init__(self, screen: SearchScreen) -> None:
        super().__init__(screen)
        self._profile_lock = threading.Lock()

    @guarded
    async def judge(self, polarity: Polarity) -> None:
        """Like or unlike the selected result."""
        screen = self.screen
        hit = screen.selection.need()
        if hit is None:
            return
        label = hit_label(hit, screen.options.root)
        if screen.taste.add(f"id:{hit.id}", label, polarity):
            await screen.chips.show(screen.taste.chips)
            self._profile_write(polarity, hit.id)
        verb = "Liked" if polarity == "like" else "Disliked"
        screen.status.set_state(f"{verb} {label}: {plural(len(screen.taste.likes), 'like')}, "
                                f"{plural(len(screen.taste.unlikes), 'dislike')} "
                                "(r to recommend)", busy=False)

    @guarded
    def recommend(self) -> None:
        taste = self.screen.taste
        if not taste.likes:
            self.tell("like a result first (+), then r recommends from your likes and "
                      "dislikes", "warning")
            return
        self.screen.searcher.ask(Request("recommend", like=tuple(taste.likes),
                                         unlike=tuple(taste.unlikes)))

    @guarded
    async def chip_removed(self, message: ChipWidget.Removed) -> None:
        screen = self.screen
        taste = screen.taste
        at = next((n for n, c in enumerate(taste.chips) if c.ref == message.ref), 0)
        chip = taste.remove(message.ref)
        await screen.chips.show(taste.chips)
        if chip is not None:
            self._profile_write("forget", chip.ref)
            screen.status.set_state(f"Forgot {chip.label}", busy=False)
        if self.recommending():
            if taste.likes:
                self.recommend()
            else:  # nothing left to recommend from: back to the query's answer
                screen.searcher.back_to_query()
        left = list(screen.query(ChipWidget))
        if message.by_key and left:
            left[min(at, len(left) - 1)].focus()
        elif message.by_key or not left:
            screen.results.focus()

    @guarded
    async def clear(self) -> None:
        """Forget every like and dislike."""
        screen = self.screen
        for chip in list(screen.taste.chips):
            self._profile_write("forget", chip.ref)
        screen.taste.clear()
        await screen.chips.show([])
        if self.recommending():  # the list would still say "recommended from 2 likes"
            screen.searcher.back_to_query()
        if not screen.busy:
            screen.status.set_state("Forgot every like and dislike", busy=False)
        else:
            self.tell("Forgot every like and dislike")

    def recommending(self) -> bool:
        """The list shown (or on its way) is a recommendation."""
        screen = self.screen
        return any(r is not None and r.kind == "recommend" for r in (screen.request,
                                                                      screen.shown))

    # profiles: a lasting taste ---------------------------------------------------------------
    def _profile_write(self, what: str, ref: str) -> None:
        self.in_thread(self._write, what, ref, group="profile")

    def _write(self, what: str, ref: str) -> None:
        name, col = self.screen.options.profile, self.screen.col
        if not name or col is None:
            return
        with self._profile_lock:
            try:
                profile = col.profile(name)
                if what == "like":
                    profile.like(ref)
                elif what == "unlike":
                    profile.unlike(ref)
                else:
                    profile.forget(ref.removeprefix("id:"))
            except Exception as e:  # noqa: BLE001
                self.screen.post_message(Notice(f"profile {name}: {unexpected(e)}", "error"))

    @guarded
    def load_profile(self) -> None:
        screen = self.screen
        name = screen.options.profile
        assert screen.col is not None and name
        entries = screen.col.profile(name).entries()
        screen.taste.clear()
        for e in entries:
            ref = {"item": f"id:{e.ref}", "text": f"text:{e.ref}"}.get(e.kind, e.ref)
            screen.taste.add(ref, ref_label(e.ref, screen.options.root), e.polarity)
        screen.run_worker(screen.chips.show(screen.taste.chips), group="chips")
