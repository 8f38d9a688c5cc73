"""euca-tui: the Textual application, its refresh loop and the ``euca-tui`` entry point."""

from __future__ import annotations

import argparse
import sys
import threading
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from rich.text import Text
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Input, Static, TabbedContent, TabPane

from . import cells, model
from .actions import ActionsApp
from .cloud import CloudAPI
from .refresh import Refresher, Results
from .screens import HelpScreen
from .table import ResourceTable
from .views import (
    VIEW_BINDINGS,
    VIEW_SPECS,
    CapacityView,
    EventsView,
    InstancesView,
    LoadBalancersView,
    ScalingView,
    View,
    build_view,
    priority_view_keys,
    view_binding_actions,
)

# Seconds between two CloudWatch requests for the same instance's CPU (its data is per minute).
METRICS_EVERY = 15.0


class FilterInput(Input):
    """The ``/`` filter line: filters as one types; Escape clears it."""

    BINDINGS = [Binding("escape", "app.clear_filter", "Clear filter")]


class EucaApp(ActionsApp):
    """A live dashboard of one cloud region, k9s style."""

    TITLE = "euca-tui"
    CSS = """
    #status { height: 1; background: $primary-background; padding: 0 1; }
    #status.-down { background: $error; color: $text; text-style: bold; }
    #filter { dock: bottom; display: none; height: 1; border: none; padding: 0 1;
              margin-bottom: 1; background: $boost; }
    #filter.-shown { display: block; }
    TabbedContent { height: 1fr; }
    TabPane { padding: 0; }
    """
    BINDINGS = [
        Binding("q", "quit", "Quit"),
        Binding("question_mark", "help", "Keys"),
        Binding("slash", "filter", "Filter"),
        Binding("r", "refresh", "Refresh"),
        *[Binding(spec.key, f"show_view('{spec.id}')", spec.title, show=False) for spec in VIEW_SPECS],
        *[binding for bindings in VIEW_BINDINGS.values() for binding in bindings],
    ]
    VIEW_ACTIONS = view_binding_actions()
    # Actions of priority view bindings: they would see keys typed into forms and the filter line.
    PRIORITY_ACTIONS = frozenset(b.action.split("(", 1)[0] for bindings in VIEW_BINDINGS.values()
                                 for b in bindings if b.priority)

    def __init__(self, cloud: CloudAPI, interval: float = 2.0,
                 clock: Callable[[], datetime] = datetime.now, poll: bool = True) -> None:
        super().__init__()
        self.cloud = cloud
        self.interval = interval
        self.clock = clock
        self.poll_enabled = poll
        self.active_view = "instances"
        self.reachable: bool | None = None
        self.down_reason = ""
        self.last_refresh: datetime | None = None
        self.refresher = Refresher(cloud, interval)
        self._reported: dict[str, str] = {}
        self._instance_states: dict[str, str] | None = None
        self._node_states: dict[str, str] | None = None
        # "balancer/instance" -> its health, as last seen (None: not looked yet).
        self._health_states: dict[str, str] | None = None
        self._filter_target: ResourceTable | None = None
        # Instance id -> monotonic time of its last metrics request (None while one is in flight).
        self._metrics_asked: dict[str, float | None] = {}

    # -- layout -----------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        """Status line, one tab per view, the filter line and the footer."""
        yield Static(id="status")
        with TabbedContent(initial="tab-instances"):
            for spec in VIEW_SPECS:
                with TabPane(f"{spec.key} {spec.title}", id=f"tab-{spec.id}"):
                    yield build_view(spec)
        yield FilterInput(placeholder="filter (Enter keeps it, Escape clears)", id="filter")
        yield Footer()

    def on_mount(self) -> None:
        """Start refreshing and focus the instances table."""
        self.render_status()
        self.log_event("euca-tui", f"started; cloud {self.cloud.label}", "dim")
        self.focus_view()
        if self.poll_enabled:
            # A daemon thread rather than a Textual thread worker: those run in asyncio's default
            # executor, which the process waits for at exit, so quitting while the cloud hangs
            # would hang too (for the whole request timeout).
            threading.Thread(target=self.refresher.run, args=(self,), name="euca-tui-refresh",
                             daemon=True).start()

    def on_unmount(self) -> None:
        """Let the refresh thread finish."""
        self.refresher.stop()

    def view(self, name: str) -> View:
        """The view widget of a tab."""
        return self.query_one(f"#{name}-view", View)

    def current_view(self) -> View:
        """The view on screen."""
        return self.view(self.active_view)

    def focus_view(self) -> None:
        """Focus the main table of the view on screen."""
        self.current_view().tables()[0].focus()

    # -- global actions ---------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """View keys are live (and in the footer) only while their view is on screen."""
        views = self.VIEW_ACTIONS.get(action)
        if views is None:
            return True
        if action in self.PRIORITY_ACTIONS and (self.screen is not self.screen_stack[0]
                                                or isinstance(self.focused, Input)):
            return False  # a key typed into a form or the filter line is text, not an action
        return self.active_view in views

    def action_show_view(self, name: str) -> None:
        """Switch to a view."""
        self.active_view = name
        self.query_one(TabbedContent).active = f"tab-{name}"
        self.refresh_bindings()

    def action_mark(self) -> None:
        """Mark the instance under the cursor (space)."""
        self.query_one("#instances-table", ResourceTable).action_toggle_mark()

    def action_toggle_detail(self) -> None:
        """Show or hide the instance detail pane."""
        self.query_one(InstancesView).action_toggle_detail()

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        """Keys and mouse both land here: refresh the new view now and sync the filter line."""
        # Read the tab now on screen, not the event's: after quick key presses, events for
        # tabs already left may still be queued.
        self.active_view = (self.query_one(TabbedContent).active or "tab-instances").removeprefix("tab-")
        self.refresh_bindings()
        self.focus_view()
        self._sync_filter_line()
        self.wake_poller()

    def action_refresh(self) -> None:
        """Refresh now rather than at the next tick."""
        self.wake_poller()
        self.notify("refreshing", timeout=1)

    def action_filter(self) -> None:
        """Open the filter line for the current table."""
        self._filter_target = self.current_view().current_table()
        line = self.query_one("#filter", FilterInput)
        line.value = self._filter_target.filter_text
        line.add_class("-shown")
        line.focus()

    def action_clear_filter(self) -> None:
        """Clear the current table's filter and hide the line."""
        target = self._filter_target or self.current_view().current_table()
        target.set_filter("", immediate=True)
        line = self.query_one("#filter", FilterInput)
        line.value = ""
        line.remove_class("-shown")
        target.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        """Filter as one types."""
        if event.input.id == "filter" and self._filter_target is not None:
            self._filter_target.set_filter(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter keeps the filter and goes back to the table."""
        if event.input.id == "filter":
            target = self._filter_target or self.current_view().current_table()
            if not event.value:
                event.input.remove_class("-shown")
            target.focus()

    def _sync_filter_line(self) -> None:
        table = self.current_view().current_table()
        self._filter_target = table
        line = self.query_one("#filter", FilterInput)
        line.value = table.filter_text
        line.set_class(bool(table.filter_text), "-shown")

    def action_help(self) -> None:
        """Show every key binding of the app and of the view on screen."""
        view = self.current_view()
        general = [(b.key.replace("question_mark", "?").replace("slash", "/"), b.description)
                   for b in self._bindings_of(EucaApp)]
        general += [(s.key, f"{s.title} view") for s in VIEW_SPECS]
        if "s" in priority_view_keys().get(self.active_view, set()):
            general += [("S / click", "reverse the order / sort by a header (s is this view's own key)")]
        else:
            general += [("s / S", "sort by the next column / reverse the order")]
        general += [("ctrl+p", "command palette"), ("Escape", "clear the filter")]
        own = [(b.key, b.tooltip or b.description) for b in VIEW_BINDINGS.get(self.active_view, [])]
        if isinstance(view, InstancesView):
            own.append(("Enter", "open the detail pane"))
        title = next(s.title for s in VIEW_SPECS if s.id == self.active_view)
        sections = [("Everywhere", general)] + ([(f"{title} view", own)] if own else [])
        self.push_screen(HelpScreen(sections))

    @staticmethod
    def _bindings_of(cls: type) -> list[Binding]:
        return [b for b in getattr(cls, "BINDINGS", []) if isinstance(b, Binding) and b.show
                and b.action.split("(", 1)[0] not in EucaApp.VIEW_ACTIONS]

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """The command palette: views and actions by name."""
        yield from super().get_system_commands(screen)
        for spec in VIEW_SPECS:
            yield SystemCommand(f"View: {spec.title}", f"Show the {spec.title.lower()} view ({spec.key})",
                                lambda name=spec.id: self.action_show_view(name))
        yield SystemCommand("Launch instances", "Open the launch form", self.action_launch)
        yield SystemCommand("Create key pair", "Create a key pair and save its private key",
                            self.action_create_key)
        yield SystemCommand("Allocate address", "Allocate an elastic IP", self.action_allocate)
        yield SystemCommand("Create volume", "Open the create-volume form", self.action_create_volume)
        yield SystemCommand("Refresh", "Refresh now", self.action_refresh)
        yield SystemCommand("Key bindings", "Show every key binding", self.action_help)

    # -- event log --------------------------------------------------------------------------
    def log_event(self, resource: str, event: str, style: str = "") -> None:
        """Append to the event log."""
        self.query_one("#events-view", EventsView).add(self.clock().strftime("%H:%M:%S"), resource,
                                                      event, style)

    # -- refreshing -------------------------------------------------------------------------
    def wake_poller(self) -> None:
        """Make the refresh loop run now (thread-safe)."""
        self.refresher.wake()

    def on_screen_datasets(self) -> tuple[str, ...]:
        """The datasets of the view on screen (asked by the refresh loop)."""
        return tuple(self.current_view().DATASETS)

    def apply_results(self, results: Results) -> None:
        """Put fetched data into the tables (UI thread)."""
        if self.reachable is False:
            self.notify("The cloud answers again.", title="Connection restored", timeout=5)
            self.log_event("cloud", "reachable again", "green")
        self.reachable = True
        self._reported.pop("refresh", None)
        self.last_refresh = self.clock()
        for name, (kind, value) in results.items():
            view = self.view(name)
            if kind == "ok":
                raw, tables = value
                self.refresher.unsupported.pop(name, None)
                self._reported.pop(name, None)
                view.set_note("")
                for table_name, rows in tables.items():
                    table = view.table(table_name)
                    if table is not None:
                        table.set_rows(rows)
                if name == "instances":
                    self._instances_changed(raw)
                elif name == "capacity":
                    self._capacity_changed(raw)
                elif name == "scaling":
                    scaling = self.query_one(ScalingView)
                    scaling.activities = raw["activities"]
                    scaling.show_activities()
                elif name == "services":
                    view.set_note(raw["error"])
                elif name == "loadbalancers":
                    self.query_one(LoadBalancersView).update(raw)
                    self._health_changed(raw["health"])
            elif kind == "unsupported":
                self.refresher.unsupported[name] = time.monotonic()
                view.set_note(f"Not available on this cloud: {value.message}")
                view.tables()[0].set_rows([])
            else:
                view.set_note(f"{value.message} ({value.code})")
                if self._reported.get(name) != str(value):
                    # Say it once; the note stays while the error lasts.
                    self._reported[name] = str(value)
                    self.notify(f"{value.message} ({value.code})", title=f"Listing {name} failed",
                                severity="error", timeout=8)
        self.render_status()

    def _instances_changed(self, instances: list[dict[str, Any]]) -> None:
        view = self.query_one(InstancesView)
        view.raw = {str(i.get("instanceId")): i for i in instances}
        view.console = {k: v for k, v in view.console.items() if k in view.raw}
        states = {iid: model.instance_state(i) for iid, i in view.raw.items()}
        for iid, event in model.state_changes(self._instance_states, states):
            self.log_event(iid, event, cells.STATE_STYLES.get(event.rsplit(" ", 1)[-1].strip("()"), ""))
        self._instance_states = states
        view.show_detail()

    def _capacity_changed(self, raw: dict[str, Any]) -> None:
        view = self.query_one(CapacityView)
        nodes = raw.get("nodes")
        view.set_note(f"Per-node view needs the cloud admin: {raw['node_error']}" if nodes is None else "",
                      "nodes")
        if nodes is None:
            return
        states = {str(n.get("name")): f"{n.get('state')}/{n.get('powerState')}" for n in nodes}
        for node, event in model.state_changes(self._node_states, states):
            self.log_event(node, event)
        self._node_states = states

    def _health_changed(self, health: dict[str, list[dict[str, Any]] | str]) -> None:
        """Log instances going in and out of service behind each balancer."""
        states = {f"{name}/{st.get('InstanceId')}": str(st.get("State"))
                  for name, listed in health.items() if isinstance(listed, list) for st in listed}
        for key, event in model.state_changes(self._health_states, states):
            self.log_event(key, event, cells.STATE_STYLES.get(event.rsplit(" ", 1)[-1].strip("()"), ""))
        self._health_states = states

    def refresh_failed(self, message: str) -> None:
        """An unexpected refresh failure: say it once, keep retrying."""
        if self._reported.get("refresh") != message:
            self._reported["refresh"] = message
            self.notify(message, title="Refresh failed", severity="error", timeout=8)

    def set_unreachable(self, reason: str) -> None:
        """Show that the cloud cannot be reached (the data on screen is then stale)."""
        if self.reachable is not False:
            self.notify(f"{reason}; retrying", title="Cloud unreachable", severity="error", timeout=6)
            self.log_event("cloud", f"unreachable: {reason}", "bold red")
        self.reachable = False
        self.down_reason = reason
        self.render_status()

    def render_status(self) -> None:
        """The status line: cloud, connection, counts, last refresh."""
        status = self.query_one("#status", Static)
        text = Text()
        text.append("euca-tui  ", style="bold")
        if self.reachable is None:
            text.append("◌ connecting…", style="yellow")
        elif self.reachable:
            text.append("● connected", style="bold green")
        else:
            text.append(f"✖ UNREACHABLE ({self.down_reason or 'no answer'}), retrying", style="bold")
        text.append(f"   {self.cloud.label}")
        states = self._instance_states or {}
        running = sum(1 for s in states.values() if s == "running")
        text.append(f"   {len(states)} instances, {running} running")
        if self.last_refresh is not None:
            text.append(f"   refreshed {self.last_refresh:%H:%M:%S}", style="dim")
        status.update(text)
        status.set_class(self.reachable is False, "-down")

    def fetch_console(self, iid: str | None) -> None:
        """Fetch the console output of an instance for the detail pane."""
        if not iid:
            return
        view = self.query_one(InstancesView)
        view.console.setdefault(iid, "")

        def got(result: dict[str, Any]) -> None:
            view.console[iid] = model.decode_console(result)
            view.show_detail()

        self.run_call("Console output", lambda: self.cloud.call("GetConsoleOutput", {"InstanceId": iid}), got)

    def fetch_metrics(self, iid: str | None) -> None:
        """Ask CloudWatch for the CPU of an instance (at most every METRICS_EVERY seconds each)."""
        if not iid:
            return
        asked = self._metrics_asked.get(iid, -1e9)
        if asked is None or time.monotonic() - asked < METRICS_EVERY:
            return
        self._metrics_asked[iid] = None
        # CloudWatch takes UTC; a naive clock reading is local time.
        params = model.cpu_request(iid, self.clock().astimezone(UTC))
        view = self.query_one(InstancesView)

        def done(points: list[float] | str) -> None:
            self._metrics_asked[iid] = time.monotonic()
            view.metrics[iid] = points
            if view.detail_key == iid:
                view.show_metrics(iid)

        def job() -> None:
            # Not run_call: a cloud without CloudWatch is said in the pane, not in a toast.
            from .cloud import ServiceConnectionError, ServiceError

            try:
                result: list[float] | str = model.cpu_points(
                    self.cloud.call_service("monitoring", "GetMetricStatistics", params))
            except ServiceError as err:
                result = f"not available ({err.code})"
            except ServiceConnectionError as err:
                result = f"CloudWatch unreachable ({err})"
            except Exception as err:  # noqa: BLE001 - the pane must never take the app down
                result = f"{type(err).__name__}: {err}"
            try:
                self.call_from_thread(done, result)
            except RuntimeError:
                pass  # the app has stopped meanwhile

        threading.Thread(target=job, name="euca-tui metrics", daemon=True).start()


def build_parser() -> argparse.ArgumentParser:
    """The command line of ``euca-tui`` (also the source of its man page)."""
    parser = argparse.ArgumentParser(
        prog="euca-tui", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="A live terminal dashboard of a Eucalyptus (or AWS) region, configured like "
                    "the euca-* commands (euca2ools.ini, EUCA_CONFIG_PATH, AWS_ACCESS_KEY_ID...).",
        epilog="keys: 1-9,0,w,g,e views  / filter  s sort  ? all keys  ctrl+p commands  q quit")
    parser.add_argument("--region", metavar="USER@REGION",
                        help="region and/or user from euca2ools.ini (aws:us-east-1 for AWS)")
    parser.add_argument("-U", "--url", help="endpoint URL for every service (like euca-* -U)")
    parser.add_argument("-I", "--access-key-id", metavar="KEY_ID", help="access key to sign with")
    parser.add_argument("-S", "--secret-key", metavar="KEY", help="its secret key")
    parser.add_argument("--security-token", metavar="TOKEN", help="session token, with -I/-S")
    parser.add_argument("--interval", type=float, default=2.0, metavar="SECONDS",
                        help="time between refreshes (default 2)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """``euca-tui``: the dashboard, configured like the euca-* commands."""
    from euca2ools.exceptions import ConfigError

    from .cloud import Cloud

    args = build_parser().parse_args(argv)
    try:
        cloud = Cloud.from_config(args.region, None, url=args.url, access_key_id=args.access_key_id,
                                  secret_key=args.secret_key, security_token=args.security_token)
    except ConfigError as err:
        print(f"euca-tui: {err}", file=sys.stderr)
        return 1
    EucaApp(cloud, interval=max(0.2, args.interval)).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
