"""A Footer that shows what fits: on a narrow terminal, keys that do not apply right now go first,
then the last ones, so the Footer is never cut mid-word; `?` lists every key."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer
from textual.widgets._footer import FooterKey


class FittingFooter(Footer):
    """The Footer of every screen: the keys that fit in the terminal's width."""

    _fitted_width = 0

    def on_resize(self) -> None:
        """What fits changed with the width (the main screen's Footer is also told by the app)."""
        if self.app.size.width != self._fitted_width:
            self.refresh(recompose=True)

    def compose(self) -> ComposeResult:
        items = list(super().compose())
        width = self.app.size.width  # the Footer spans the screen; its own size may not be known yet
        self._fitted_width = width
        keys = [w for w in items if isinstance(w, FooterKey)]
        if not width or len(keys) != len(items):
            yield from items  # grouped keys: leave the layout to Textual
            return
        pad = 1 if self.compact else 2  # cells a key takes beyond its text (measured on Textual 8)

        def cells(key: FooterKey) -> int:
            return len(key.key_display) + len(key.description) + 1 + pad

        palette = [k for k in keys if k.action in ("command_palette", "app.command_palette")]
        rest = [k for k in keys if k not in palette]
        budget = width - sum(cells(k) for k in palette) - 2
        keep = list(rest)
        for drop in [k for k in reversed(rest) if k.disabled] + [k for k in reversed(rest) if not k.disabled]:
            if sum(cells(k) for k in keep) <= budget:
                break
            if drop.action != "help":  # `?` stays: it lists everything that was left out
                keep.remove(drop)
        self.styles.grid_size_columns = len(keep) + len(palette)
        yield from (k for k in keys if k in keep or k in palette)


class FleetFooter(FittingFooter):
    """The app's Footer: fitting, cheaper on a cursor move and without Textual's leak.

    Textual rebuilds the Footer whenever bindings may have changed; each rebuild data-binds new key
    widgets to the Footer's `compact` reactive, and Textual prunes those watchers only when
    `compact` changes (Textual issue 6666): ~27 dead key widgets (~0.25 MB) kept per cursor move.
    When the keys shown stay the same and only which apply changed (the usual cursor move), dim or
    undim them in place instead; otherwise rebuild, and drop the dead watchers."""

    def bindings_changed(self, screen: Screen[object]) -> None:
        if not self._dim_in_place(screen):
            super().bindings_changed(screen)

    def _dim_in_place(self, screen: Screen[object]) -> bool:
        if not (self._bindings_ready and self.is_attached and screen is self.screen):
            return False
        first: dict[str, tuple[Binding, bool]] = {}  # the Footer shows each action's first binding
        for _, binding, enabled, _ in screen.active_bindings.values():
            if binding.show:
                first.setdefault(binding.action, (binding, enabled))
        keys = [key for key in self.query(FooterKey) if not key.has_class("-command-palette")]
        shown = [(key.action, key.key, key.description) for key in keys]
        # Fitting drops keys by whether they apply: when some were left out, rebuild.
        if shown != [(action, b.key, b.description) for action, (b, _) in first.items()]:
            return False
        for key in keys:
            disabled = not first[key.action][1]
            if disabled != key._disabled:
                key._disabled = disabled
                key.set_class(disabled, "-disabled")
        return True

    async def recompose(self) -> None:
        await super().recompose()
        watchers: dict[str, list[tuple[object, object]]] = getattr(self, "__watchers", {})
        for name, entries in watchers.items():
            watchers[name] = [
                (node, callback) for node, callback in entries if not getattr(node, "_closing", False)
            ]
