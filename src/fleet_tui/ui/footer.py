"""A Footer that shows what fits: on a narrow terminal, keys that do not apply right now go first,
then the last ones, so the Footer is never cut mid-word; `?` lists every key."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Footer
from textual.widgets._footer import FooterKey


class FittingFooter(Footer):
    def compose(self) -> ComposeResult:
        items = list(super().compose())
        width = self.app.size.width  # the Footer spans the screen; its own size may not be known yet
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
