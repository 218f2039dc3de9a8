"""What the panel's widgets look like: labels, button styles and shared layouts."""

from __future__ import annotations

import ipywidgets as widgets
from ipywidgets.widgets.widget_string import HTMLStyle, TextStyle

from ._kinds import KINDS

LABELS = {"approve": "Approve", "edit": "Edit", "reject": "Reject", "respond": "Respond"}
STYLES = {"approve": "success", "edit": "warning", "reject": "danger", "respond": "info"}
LOG_ROWS = 50
"""The decision log shows this many rows at most (the latest); `panel.decisions` has them all."""
KIND_NAMES = {kind.name: kind.label for kind in KINDS}
"""A card's title by request kind (each kind's label lives with its definition in `_kinds.py`)."""
LOG_SHOWN = 5
"""The decision log shows this many rows until "show all" is opened."""
ARM_DELAY_S = 0.5
"""A new card's decision buttons arm this long after it shows, so a click meant for the card
before it cannot land on it. `ApprovalPanel(arm_delay=0)` arms at once; `panel.decide()` never waits."""
PANEL_CLASS = "hitl-panel"

# WCAG 2.2 AA: white text on each button colour is at least 4.5:1 (the hover colours darker still),
# disabled buttons keep 7.6:1, and the focus ring (outside the button, on the page's white) is 10:1.
COLORS = {
    "success": ("#2e7d32", "#1b5e20"),
    "warning": ("#b45309", "#92400e"),
    "danger": ("#c62828", "#8e1b1b"),
    "info": ("#00658f", "#004f70"),
    "primary": ("#1565c0", "#0d47a1"),
}
FOCUS_RING = "#0b3d91"
DISABLED = ("#e0e0e0", "#424242")


def style_sheet() -> str:
    """The panel's own CSS, scoped to `.hitl-panel` (a `<style>` in an HTML widget)."""
    scope = f".{PANEL_CLASS}"
    buttons = "".join(
        f"{scope} .jupyter-button.mod-{name}{{background:{base} !important;color:#fff !important}}"
        f"{scope} .jupyter-button.mod-{name}:hover:enabled,{scope} .jupyter-button.mod-{name}:active:enabled"
        f"{{background:{hover} !important}}"
        for name, (base, hover) in COLORS.items()
    )
    return (
        "<style>"
        + buttons
        + f"{scope} .jupyter-button:disabled{{opacity:1 !important;background:{DISABLED[0]} !important;"
        f"color:{DISABLED[1]} !important;cursor:not-allowed}}"
        f"{scope} .jupyter-button,{scope} .widget-toggle-button{{color:#1a1a1a}}"
        f"{scope} .jupyter-button.mod-active{{background:#3a3a3a !important;color:#fff !important}}"
        f"{scope} button:focus,{scope} button:focus-visible,{scope} input:focus-visible,"
        f"{scope} textarea:focus-visible,{scope} select:focus-visible,{scope} summary:focus-visible"
        f"{{outline:3px solid {FOCUS_RING} !important;outline-offset:2px !important;box-shadow:none !important}}"
        f"{scope} .widget-html-content{{word-break:normal;overflow-wrap:anywhere;white-space:normal}}"
        f"{scope} pre{{white-space:pre-wrap;word-break:normal;overflow-wrap:anywhere}}"
        f"{scope} .hitl-args{{border-collapse:collapse;margin:2px 0 4px;max-width:100%;table-layout:auto}}"
        f"{scope} .hitl-args th{{text-align:left;padding:1px 10px 1px 0;vertical-align:top;font-weight:600;"
        "white-space:nowrap;text-decoration:underline dotted}"
        f"{scope} .hitl-args td{{padding:1px 0;overflow-wrap:anywhere}}"
        f"{scope} ins,{scope} .hitl-diff-new{{background:#d7f5dd;color:#0f3d17;text-decoration:none;padding:0 2px}}"
        f"{scope} del,{scope} .hitl-diff-old{{background:#fbe0e0;color:#6b0f0f;padding:0 2px}}"
        f"{scope} .hitl-after{{color:#1a1a1a;background:#eef3fb;border-left:4px solid {FOCUS_RING};"
        "padding:2px 6px;margin:2px 0}"
        f"{scope} .hitl-context{{color:#333;font-size:92%;margin:2px 0}}"
        f"{scope} .hitl-arming{{color:#5a3a00;font-style:italic}}"
        f"{scope} .hitl-confirm{{background:#fff4e5;border:1px solid #b45309;padding:4px;margin:4px 0}}"
        f"{scope} .hitl-field-errors{{color:#8e1b1b}}"
        f"{scope} .hitl-log{{max-width:900px}}"
        f"{scope} .hitl-log table{{width:100%;max-width:900px;table-layout:fixed;border-collapse:collapse}}"
        f"{scope} .hitl-log th,{scope} .hitl-log td{{text-align:left;vertical-align:top;padding:2px 6px;"
        "overflow-wrap:anywhere;border-bottom:1px solid #ddd}"
        f"{scope} .hitl-log .hitl-run td{{background:#f3f3f3;font-weight:600}}"
        f"{scope} .hitl-log col.t{{width:84px}}{scope} .hitl-log td:first-child{{white-space:nowrap}}"
        f"{scope} .hitl-log col.d{{width:80px}}"
        f"{scope} .hitl-log col.n{{width:170px}}"
        f"{scope} .hitl-new{{animation:hitl-flash 1.6s ease-out 1}}"
        "@keyframes hitl-flash{0%{background:#fff1b8;box-shadow:0 0 0 3px #b45309}100%{background:transparent}}"
        "</style>"
    )


ARIA_SCRIPT = """
(function () {
  // ipywidgets has no API for ARIA attributes: keep them in step with the classes the kernel sets.
  if (window.__hitlAria) { window.__hitlAria(); return; }
  const sync = () => {
    document.querySelectorAll('.hitl-panel').forEach((root) => {
      root.querySelectorAll('.hitl-live').forEach((el) => {
        if (el.getAttribute('role') !== 'status') {
          el.setAttribute('role', 'status');
          el.setAttribute('aria-live', 'polite');
          el.setAttribute('aria-atomic', 'true');
        }
      });
      root.querySelectorAll('button.hitl-expander').forEach((b) => {
        const v = b.classList.contains('hitl-expanded') ? 'true' : 'false';
        if (b.getAttribute('aria-expanded') !== v) b.setAttribute('aria-expanded', v);
      });
      root.querySelectorAll('.hitl-modes button').forEach((b) => {
        const v = b.classList.contains('mod-active') ? 'true' : 'false';
        if (b.getAttribute('aria-pressed') !== v) b.setAttribute('aria-pressed', v);
      });
    });
  };
  let queued = false;
  const later = () => { if (!queued) { queued = true; requestAnimationFrame(() => { queued = false; sync(); }); } };
  new MutationObserver(later).observe(document.body, {
    subtree: true, childList: true, attributes: true, attributeFilter: ['class'],
  });
  window.__hitlAria = sync;
  sync();
})();
"""


class Looks:
    """Layouts and styles shared by a panel's widgets.

    A widget builds its own layout and style objects unless given some, and that is most
    of what a new card costs; the cards of one panel share these (ipywidgets allows it).
    Widgets that show or hide themselves get a layout of their own.
    """

    def __init__(self) -> None:
        self.plain = widgets.Layout()
        self.wide = widgets.Layout(width="95%")
        self.card = widgets.Layout(border="1px solid #bbb", padding="6px", margin="4px 0")
        self.action = widgets.Layout(border_left="3px solid #ddd", padding="0 0 0 6px")
        self.button = widgets.ButtonStyle()
        self.text = TextStyle(description_width="initial")
        self.html = HTMLStyle()
