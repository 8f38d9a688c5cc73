"""The dashboard's views: one tab each, built from live ResourceTables."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.timer import Timer
from textual.widgets import Sparkline, Static

from . import cells, elbv2, model
from .cloud import ServiceError
from .table import ResourceTable


class View(Vertical):
    """A tab body: tables filled by datasets, and a note line for "not available" and such."""

    DATASETS: tuple[str, ...] = ()

    DEFAULT_CSS = """
    View { height: 1fr; }
    View .note { color: $warning; height: auto; padding: 0 1; }
    View .note.-empty { display: none; }
    View .caption { text-style: bold; padding: 0 1; height: 1; }
    """

    def tables(self) -> list[ResourceTable]:
        """Every table of the view, in focus order."""
        return list(self.query(ResourceTable))

    def table(self, name: str) -> ResourceTable | None:
        """The table fed by the dataset table ``name``."""
        found = self.query(f"#{name}-table")
        return found.first(ResourceTable) if found else None

    def current_table(self) -> ResourceTable:
        """The focused table, or the first one: the target of ``/`` and of actions."""
        focused = self.app.focused
        if isinstance(focused, ResourceTable) and focused in self.tables():
            return focused
        return self.tables()[0]

    def set_note(self, text: str, name: str = "") -> None:
        """Show (or clear, with '') a note above the tables."""
        note = self.query_one(f"#{name or self.id}-note", Static)
        note.update(text)
        note.set_class(not text, "-empty")

    def note(self, name: str = "") -> Static:
        """A note line for ``set_note``."""
        return Static("", id=f"{name or self.id}-note", classes="note -empty")


class SimpleView(View):
    """One dataset, one table."""

    def __init__(self, dataset: str, columns: tuple[str, ...], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.DATASETS = (dataset,)
        self.dataset = dataset
        self.columns = columns

    def compose(self) -> ComposeResult:
        """A note and the table."""
        yield self.note()
        yield ResourceTable(self.columns, id=f"{self.dataset}-table")


# Seconds the cursor must rest on an instance before its console output is asked for.
CONSOLE_DELAY = 0.25
# Seconds the cursor must rest on an application/network balancer before its detail is asked for.
DETAIL_DELAY = 0.25


class InstancesView(View):
    """Instances with a detail pane (attributes, tags, block devices, console output)."""

    DATASETS = ("instances",)
    DEFAULT_CSS = """
    InstancesView #detail { width: 70; display: none; border-left: solid $primary; padding: 0 1; }
    InstancesView.-detail #detail { display: block; }
    InstancesView #cpu-sparkline { height: 3; margin: 0 1 1 1; }
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.raw: dict[str, dict[str, Any]] = {}
        self.console: dict[str, str] = {}
        self.detail_key: str | None = None
        self._console_timer: Timer | None = None
        # Instance id -> its average CPU points (oldest first), or the reason there are none.
        self.metrics: dict[str, list[float] | str] = {}

    def compose(self) -> ComposeResult:
        """Table on the left, detail pane on the right."""
        yield self.note()
        with Horizontal():
            yield ResourceTable(model.INSTANCE_COLUMNS, id="instances-table", markable=True)
            with VerticalScroll(id="detail"):
                yield Static("CPU, last hour", id="metrics-caption", classes="caption")
                yield Sparkline([], id="cpu-sparkline", summary_function=max)
                yield Static("", id="detail-text")

    @property
    def detail_open(self) -> bool:
        """Whether the detail pane is shown."""
        return self.has_class("-detail")

    def action_toggle_detail(self) -> None:
        """Show or hide the detail pane."""
        self.toggle_class("-detail")
        self.show_detail()

    def on_data_table_row_selected(self, event: ResourceTable.RowSelected) -> None:
        """Enter opens the detail pane of the row."""
        if not self.detail_open:
            self.add_class("-detail")
        self.show_detail()

    def on_data_table_row_highlighted(self, event: ResourceTable.RowHighlighted) -> None:
        """Follow the cursor with the detail pane."""
        if self.detail_open:
            self.show_detail()

    def show_detail(self) -> None:
        """Render the pane for the selected instance, asking for its console output once."""
        if not self.detail_open:
            return
        key = self.current_table().selected_key
        pane = self.query_one("#detail-text", Static)
        inst = self.raw.get(key or "")
        if inst is None:
            pane.update(Text("No instance selected", style="dim"))
            self.show_metrics(None)
            return
        if key != self.detail_key or key not in self.console:
            self.detail_key = key
            # Ask once the cursor rests: holding the down key must not send a call per row.
            if self._console_timer is not None:
                self._console_timer.stop()
            fetch = self.app.fetch_console  # type: ignore[attr-defined]
            self._console_timer = self.set_timer(CONSOLE_DELAY, lambda: fetch(key))
        pane.update(model.instance_detail(inst, self.console.get(key or "")))
        self.app.fetch_metrics(key)  # type: ignore[attr-defined]
        self.show_metrics(key)

    def show_metrics(self, key: str | None) -> None:
        """The CPU sparkline of the selected instance, with its latest and peak values."""
        caption = self.query_one("#metrics-caption", Static)
        spark = self.query_one("#cpu-sparkline", Sparkline)
        points = self.metrics.get(key or "")
        if isinstance(points, list) and points:
            spark.data = points
            caption.update(f"CPU, last hour: now {points[-1]:.1f}%, peak {max(points):.1f}%")
            return
        spark.data = []
        caption.update("CPU, last hour: " + (points if isinstance(points, str) and points
                                             else "no data yet" if points == [] else "loading..."))


class CapacityView(View):
    """Per zone and per node usage bars, and free/max per VM type."""

    DATASETS = ("capacity",)
    DEFAULT_CSS = """
    CapacityView #zones-table { height: auto; max-height: 10; }
    CapacityView #vmtypes-box { width: 54; }
    """

    def compose(self) -> ComposeResult:
        """Zones on top; VM types and nodes side by side."""
        yield self.note()
        yield Static("Zones", classes="caption")
        yield ResourceTable(model.ZONE_COLUMNS, id="zones-table")
        with Horizontal():
            with Vertical(id="vmtypes-box"):
                yield Static("VM types (free / max)", classes="caption")
                yield ResourceTable(model.VMTYPE_COLUMNS, id="vmtypes-table")
            with Vertical(id="nodes-box"):
                yield Static("Nodes", classes="caption")
                yield self.note("nodes")
                yield ResourceTable(model.NODE_COLUMNS, id="nodes-table")


class ServicesView(View):
    """The cloud's services (CLC, Walrus, each CC, SC and NC...) with their states, a node
    in maintenance DISABLED, and the registry's events below (cloud admin only)."""

    DATASETS = ("services",)
    DEFAULT_CSS = """
    ServicesView #services-table { height: 2fr; }
    ServicesView #service-events-table { height: 1fr; }
    """

    def compose(self) -> ComposeResult:
        """Services on top, their events below."""
        yield self.note()
        yield Static("Services", classes="caption")
        yield ResourceTable(model.SERVICE_COLUMNS, id="services-table")
        yield Static("Service events (newest first)", classes="caption")
        yield ResourceTable(model.SERVICE_EVENT_COLUMNS, id="service-events-table")


MAX_EVENTS = 5000


class EventsView(View):
    """State changes seen since the app started, as a log: oldest first, following the newest."""

    DATASETS = ()

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.rows: list[cells.Row] = []
        self.count = 0
        self._flush_pending = False

    def compose(self) -> ComposeResult:
        """One table of events."""
        yield self.note()
        yield ResourceTable(model.EVENT_COLUMNS, id="events-table")

    def add(self, when: str, resource: str, event: str, style: str = "") -> None:
        """Record one event at the end of the log (shown once the current burst is over)."""
        row: tuple[cells.Cell, ...] = (when, resource, Text(event, style=style))
        self.count += 1
        self.rows.append((f"e{self.count}", row))
        if not self._flush_pending:
            # A refresh may bring thousands of events (a big launch): show them in one update.
            self._flush_pending = True
            self.call_later(self.flush)

    def flush(self) -> None:
        """Show the events recorded so far; a cursor on the last row follows new ones."""
        self._flush_pending = False
        # Appending (and trimming the oldest) lets the table patch itself instead of rebuilding.
        del self.rows[:-MAX_EVENTS]  # an all-day session must not grow without bound
        table = self.query_one(ResourceTable)
        following = table.row_count == 0 or table.cursor_row >= table.row_count - 1
        table.set_rows(list(self.rows))
        if following:
            table.move_cursor(row=table.row_count - 1, animate=False)


class AlarmsView(SimpleView):
    """CloudWatch alarms with their state in colour."""


class ScalingView(View):
    """Auto Scaling groups, and the recent activities of the group under the cursor."""

    DATASETS = ("scaling",)
    DEFAULT_CSS = """
    ScalingView #scaling-table { height: 1fr; }
    ScalingView #activities-table { height: 1fr; }
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.activities: list[dict[str, Any]] = []

    def compose(self) -> ComposeResult:
        """Groups on top, activities of the selected one below."""
        yield self.note()
        yield Static("Auto Scaling groups", classes="caption")
        yield ResourceTable(model.SCALING_GROUP_COLUMNS, id="scaling-table")
        yield Static("Recent activities", id="activities-caption", classes="caption")
        yield ResourceTable(model.ACTIVITY_COLUMNS, id="activities-table")

    def on_data_table_row_highlighted(self, event: ResourceTable.RowHighlighted) -> None:
        """Follow the group cursor with the activities table."""
        if event.data_table.id == "scaling-table":
            self.show_activities()

    def show_activities(self) -> None:
        """Fill the activities table for the group under the cursor."""
        group = self.query_one("#scaling-table", ResourceTable).selected_key
        self.query_one("#activities-caption", Static).update(
            f"Recent activities of {group}" if group else "Recent activities")
        self.query_one("#activities-table", ResourceTable).set_rows(
            model.activity_rows(self.activities, group))


class LoadBalancersView(View):
    """Load balancers, classic and elbv2 (application, network), and the detail of the one
    under the cursor: a classic balancer's listeners and instance health, or an elbv2
    balancer's listener rules, target groups and the health of each group's targets."""

    DATASETS = ("loadbalancers",)
    DEFAULT_CSS = """
    LoadBalancersView #loadbalancers-table { height: 1fr; }
    LoadBalancersView #lb-detail { height: 1fr; }
    LoadBalancersView #listeners-box { width: 1fr; }
    LoadBalancersView #lb-instances-box { width: 1fr; }
    LoadBalancersView #rules-box { width: 1fr; display: none; }
    LoadBalancersView #targets-box { width: 1fr; display: none; }
    LoadBalancersView #target-groups-table { height: auto; max-height: 6; }
    LoadBalancersView.-v2 #listeners-box { display: none; }
    LoadBalancersView.-v2 #lb-instances-box { display: none; }
    LoadBalancersView.-v2 #rules-box { display: block; }
    LoadBalancersView.-v2 #targets-box { display: block; }
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.balancers: dict[str, dict[str, Any]] = {}
        # Balancer name -> DescribeInstanceHealth's states, or why they could not be read.
        self.health: dict[str, list[dict[str, Any]] | str] = {}
        # elbv2 balancers by ARN, with their listeners as the last refresh saw them.
        self.v2: dict[str, dict[str, Any]] = {}
        self.v2_listeners: dict[str, list[dict[str, Any]]] = {}
        # Balancer ARN -> its rules, target groups and target health (elbv2.fetch_detail).
        self.details: dict[str, dict[str, Any]] = {}
        self._detail_busy: set[str] = set()
        self._detail_again: set[str] = set()
        self._detail_timer: Timer | None = None

    def compose(self) -> ComposeResult:
        """Balancers on top; the detail of the selected one side by side below."""
        yield self.note()
        yield Static("Load balancers", classes="caption")
        yield ResourceTable(model.LOAD_BALANCER_COLUMNS, id="loadbalancers-table")
        with Horizontal(id="lb-detail"):
            with Vertical(id="listeners-box"):
                yield Static("Listeners", id="listeners-caption", classes="caption")
                yield ResourceTable(model.LISTENER_COLUMNS, id="listeners-table")
            with Vertical(id="lb-instances-box"):
                yield Static("Instances", id="lb-instances-caption", classes="caption")
                yield self.note("lb-instances")
                yield ResourceTable(model.LB_INSTANCE_COLUMNS, id="lb-instances-table")
            with Vertical(id="rules-box"):
                yield Static("Listener rules", id="rules-caption", classes="caption")
                yield ResourceTable(elbv2.RULE_COLUMNS, id="rules-table")
            with Vertical(id="targets-box"):
                yield Static("Target groups", id="target-groups-caption", classes="caption")
                yield self.note("target-groups")
                yield ResourceTable(elbv2.TARGET_GROUP_COLUMNS, id="target-groups-table")
                yield Static("Targets", id="targets-caption", classes="caption")
                yield self.note("targets")
                yield ResourceTable(elbv2.TARGET_COLUMNS, id="targets-table")

    def update(self, raw: dict[str, Any]) -> None:
        """Keep a refresh's balancers and health, and show the selected balancer's (an elbv2
        one's detail is asked for again, while the view is on screen)."""
        self.balancers = {str(lb.get("LoadBalancerName", "")): lb for lb in raw["balancers"]}
        self.health = raw["health"]
        self.v2 = {str(lb.get("LoadBalancerArn", "")): lb for lb in raw.get("v2", [])}
        self.v2_listeners = raw.get("v2_listeners", {})
        self.details = {arn: d for arn, d in self.details.items() if arn in self.v2}
        if raw.get("v2_error"):
            self.set_note(f"Application/network balancers: {raw['v2_error']}")
        elif raw.get("v2_more"):
            self.set_note(f"Only the first {elbv2.PAGE_SIZE} application/network balancers are shown.")
        self.show_selected()
        selected = self.selected_balancer()
        if elbv2.is_v2(selected) and getattr(self.app, "active_view", "") == "loadbalancers":
            self.fetch_detail(str(selected))

    def selected_balancer(self) -> str | None:
        """The key of the balancer under the cursor: a classic name or an elbv2 ARN."""
        return self.query_one("#loadbalancers-table", ResourceTable).selected_key

    def selected_group(self) -> str | None:
        """The ARN of the target group under the cursor (of the selected elbv2 balancer)."""
        return self.query_one("#target-groups-table", ResourceTable).selected_key

    def on_data_table_row_highlighted(self, event: ResourceTable.RowHighlighted) -> None:
        """Follow the balancer cursor with the detail, the group cursor with the targets."""
        if event.data_table.id == "loadbalancers-table":
            self.show_selected()
            key = self.selected_balancer()
            if elbv2.is_v2(key) and key not in self.details:
                # Ask once the cursor rests: holding the down key must not send calls per row.
                if self._detail_timer is not None:
                    self._detail_timer.stop()
                self._detail_timer = self.set_timer(DETAIL_DELAY, lambda: self.fetch_detail(str(key)))
        elif event.data_table.id == "target-groups-table":
            self.show_targets()

    def show_selected(self) -> None:
        """Fill the detail tables for the balancer under the cursor."""
        key = self.selected_balancer()
        if elbv2.is_v2(key):
            self.add_class("-v2")
            self.show_v2(str(key))
            return
        self.remove_class("-v2")
        self.show_in_service("")
        name = key
        self.query_one("#listeners-caption", Static).update(
            f"Listeners of {name}" if name else "Listeners")
        self.query_one("#lb-instances-caption", Static).update(
            f"Instances of {name}" if name else "Instances")
        self.query_one("#listeners-table", ResourceTable).set_rows(
            model.listener_rows(self.balancers.get(name or "")))
        states = self.health.get(name or "")
        self.set_note(states if isinstance(states, str) else "", "lb-instances")
        self.query_one("#lb-instances-table", ResourceTable).set_rows(
            model.lb_instance_rows(states))

    def show_in_service(self, arn: str) -> None:
        """The In service cell of the selected elbv2 balancer: its healthy targets of all its
        groups (only the selected one's health is asked for, so the others show '-')."""
        table = self.query_one("#loadbalancers-table", ResourceTable)
        detail = self.details.get(arn)
        rows: list[cells.Row] = []
        for key, row in table.all_rows:
            if elbv2.is_v2(key):
                states = [st for listed in (detail or {}).get("health", {}).values()
                          if isinstance(listed, list) for st in listed] if key == arn else None
                shown = elbv2.healthy_cell(states) if key == arn and detail is not None \
                    else Text("-", style="dim")
                row = (*row[:model.IN_SERVICE], shown, *row[model.IN_SERVICE + 1:])
            rows.append((key, row))
        table.set_rows(rows)

    def show_v2(self, arn: str) -> None:
        """An elbv2 balancer's rules (per listener) and target groups, once fetched."""
        self.show_in_service(arn)
        name = str(self.v2.get(arn, {}).get("LoadBalancerName", ""))
        detail = self.details.get(arn)
        self.query_one("#rules-caption", Static).update(f"Listener rules of {name}")
        self.query_one("#target-groups-caption", Static).update(f"Target groups of {name}")
        rules = self.query_one("#rules-table", ResourceTable)
        groups = self.query_one("#target-groups-table", ResourceTable)
        if detail is None:
            rules.set_rows([])
            groups.set_rows([])
            self.set_note("loading...", "target-groups")
        else:
            rules.set_rows(elbv2.rule_rows(self.v2_listeners.get(arn, []), detail["rules"]))
            groups.set_rows(elbv2.target_group_rows(detail["groups"], detail["health"]))
            self.set_note(detail.get("error", "") or ("" if detail["groups"] else "(no target groups)"),
                          "target-groups")
        self.show_targets()

    def show_targets(self) -> None:
        """The targets of the group under the cursor, with their health."""
        arn = self.selected_balancer()
        detail = self.details.get(arn or "") if elbv2.is_v2(arn) else None
        group = self.selected_group() if detail is not None else None
        states = detail["health"].get(group or "") if detail is not None else None
        self.query_one("#targets-caption", Static).update(
            f"Targets of {elbv2.group_name(group)}" if group else "Targets")
        self.set_note(states if isinstance(states, str) else "", "targets")
        self.query_one("#targets-table", ResourceTable).set_rows(elbv2.target_rows(states))

    def _log_health(self, before: dict[str, Any] | None, after: dict[str, Any]) -> None:
        """Log targets changing health between two looks at a balancer (not the first look)."""
        if before is None:
            return
        old, new = elbv2.health_states(before), elbv2.health_states(after)
        for key, event in model.state_changes(old, new):
            self.app.log_event(key, event,  # type: ignore[attr-defined]
                               cells.STATE_STYLES.get(event.rsplit(" ", 1)[-1].strip("()"), ""))

    def fetch_detail(self, arn: str) -> None:
        """Ask for an elbv2 balancer's rules, groups and target health in a worker thread (one
        request at a time per balancer; a refresh meanwhile asks again once it is answered)."""
        balancer = self.v2.get(arn)
        if balancer is None:
            return
        if arn in self._detail_busy:
            self._detail_again.add(arn)
            return
        self._detail_busy.add(arn)
        listeners = list(self.v2_listeners.get(arn, []))
        cloud = self.app.cloud  # type: ignore[attr-defined]

        def done(detail: dict[str, Any]) -> None:
            self._detail_busy.discard(arn)
            if arn in self.v2:
                self._log_health(self.details.get(arn), detail)
                self.details[arn] = detail
                if self.selected_balancer() == arn:
                    self.show_v2(arn)
            if arn in self._detail_again:
                self._detail_again.discard(arn)
                self.fetch_detail(arn)

        def job() -> None:
            try:
                detail = elbv2.fetch_detail(cloud, balancer, listeners)
            except ServiceError as err:
                detail = {"arn": arn, "rules": {}, "groups": [], "health": {},
                          "error": f"{err.message} ({err.code})"}
            except Exception as err:  # noqa: BLE001 - the pane must never take the app down
                detail = {"arn": arn, "rules": {}, "groups": [], "health": {},
                          "error": f"{type(err).__name__}: {err}"}
            try:
                self.app.call_from_thread(done, detail)
            except RuntimeError:
                pass  # the app has stopped meanwhile

        threading.Thread(target=job, name="euca-tui elbv2 detail", daemon=True).start()


# Keys that act on one view's rows. They are app bindings enabled only while their view is on
# screen (not bindings of the view widgets): a key typed right after a view switch must reach
# the new view even before focus has moved into it.
VIEW_BINDINGS: dict[str, list[Binding]] = {
    "services": [Binding("m", "toggle_service", "Stop/start",
                         tooltip="Stop the service (a node: maintenance) or start it (asks first)")],
    "instances": [
        Binding("l", "launch", "Launch"),
        Binding("t", "instance_action('terminate')", "Terminate"),
        Binding("p", "instance_action('stop')", "Stop"),
        Binding("u", "instance_action('start')", "Start"),
        Binding("b", "instance_action('reboot')", "Reboot"),
        Binding("n", "tag", "Tag"),
        Binding("d", "toggle_detail", "Detail"),
        Binding("space", "mark", "Mark / unmark (t p u b act on every marked row)", show=False),
    ],
    "images": [Binding("n", "tag", "Tag")],
    "keys": [Binding("c", "create_key", "Create"), Binding("delete,x", "delete_key", "Delete")],
    "addresses": [
        Binding("a", "allocate", "Allocate"),
        Binding("i", "associate", "Associate"),
        Binding("u", "disassociate", "Disassociate"),
        Binding("delete,x", "release", "Release"),
    ],
    "volumes": [
        Binding("c", "create_volume", "Create", tooltip="Create a volume: size or snapshot, zone"),
        Binding("a", "attach_volume", "Attach", tooltip="Attach to a running instance of its zone"),
        Binding("u", "detach_volume", "Detach", tooltip="Detach from its instance (asks first)"),
        # A priority binding: the table's own "s" (sort) would otherwise take the key first.
        Binding("s", "snapshot_volume", "Snapshot", priority=True,
                tooltip="Snapshot the volume (optional description)"),
        Binding("delete,x", "delete_volume", "Delete", tooltip="Delete the volume (asks first)"),
        Binding("n", "tag", "Tag"),
    ],
    "snapshots": [
        Binding("c", "volume_from_snapshot", "Create volume",
                tooltip="Create a volume from the snapshot, in a zone you pick"),
        Binding("delete,x", "delete_snapshot", "Delete", tooltip="Delete the snapshot (asks first)"),
        Binding("n", "tag", "Tag"),
    ],
    "loadbalancers": [
        Binding("a", "register_instance", "Register",
                tooltip="Register a running instance with the selected balancer (an application "
                        "or network balancer: a target with the selected target group)"),
        Binding("delete,x", "deregister_instance", "Deregister",
                tooltip="Deregister the selected instance (or target) (asks first)"),
    ],
}


def priority_view_keys() -> dict[str, set[str]]:
    """View -> the keys its priority bindings take from the focused table (``s`` in volumes)."""
    return {view: {key for b in bindings if b.priority for key in b.key.split(",")}
            for view, bindings in VIEW_BINDINGS.items()}


def view_binding_actions() -> dict[str, set[str]]:
    """Action name -> the views in which its key is live."""
    out: dict[str, set[str]] = {}
    for view, bindings in VIEW_BINDINGS.items():
        for binding in bindings:
            out.setdefault(binding.action.split("(", 1)[0], set()).add(view)
    return out


@dataclass(frozen=True)
class ViewSpec:
    """A tab: id, title, the key that shows it, and how to build it."""

    id: str
    title: str
    key: str


VIEW_SPECS = (
    ViewSpec("instances", "Instances", "1"),
    ViewSpec("capacity", "Capacity", "2"),
    ViewSpec("images", "Images", "3"),
    ViewSpec("keys", "Key pairs", "4"),
    ViewSpec("groups", "Groups", "5"),
    ViewSpec("addresses", "Addresses", "6"),
    ViewSpec("volumes", "Volumes", "7"),
    ViewSpec("snapshots", "Snapshots", "8"),
    ViewSpec("buckets", "Buckets", "9"),
    ViewSpec("events", "Events", "0"),
    ViewSpec("alarms", "Alarms", "w"),
    ViewSpec("scaling", "Scaling", "g"),
    ViewSpec("services", "Services", "v"),
    ViewSpec("loadbalancers", "Balancers", "e"),
)


class KeysView(SimpleView):
    """Key pairs: create (saving the private key) and delete."""


class AddressesView(SimpleView):
    """Elastic IPs: allocate, associate, disassociate, release."""

    async def on_data_table_row_selected(self, event: ResourceTable.RowSelected) -> None:
        """Enter on an address associates it."""
        await self.app.run_action("app.associate")


class VolumesView(SimpleView):
    """EBS volumes: create, attach, detach, snapshot, delete."""


class SnapshotsView(SimpleView):
    """Snapshots: create a volume from one, delete."""


def build_view(spec: ViewSpec) -> View:
    """The view widget of a tab."""
    columns = {
        "images": model.IMAGE_COLUMNS, "keys": model.KEY_COLUMNS, "groups": model.GROUP_COLUMNS,
        "addresses": model.ADDRESS_COLUMNS, "volumes": model.VOLUME_COLUMNS,
        "snapshots": model.SNAPSHOT_COLUMNS, "buckets": model.BUCKET_COLUMNS,
    }
    vid = f"{spec.id}-view"
    if spec.id == "instances":
        return InstancesView(id=vid)
    if spec.id == "capacity":
        return CapacityView(id=vid)
    if spec.id == "events":
        return EventsView(id=vid)
    if spec.id == "alarms":
        return AlarmsView("alarms", model.ALARM_COLUMNS, id=vid)
    if spec.id == "scaling":
        return ScalingView(id=vid)
    if spec.id == "services":
        return ServicesView(id=vid)
    if spec.id == "loadbalancers":
        return LoadBalancersView(id=vid)
    if spec.id == "keys":
        return KeysView("keys", columns["keys"], id=vid)
    if spec.id == "addresses":
        return AddressesView("addresses", columns["addresses"], id=vid)
    if spec.id == "volumes":
        return VolumesView("volumes", columns["volumes"], id=vid)
    if spec.id == "snapshots":
        return SnapshotsView("snapshots", columns["snapshots"], id=vid)
    return SimpleView(spec.id, columns[spec.id], id=vid)
