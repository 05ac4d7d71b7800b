"""A Streamlit client without a browser: it speaks the app's own WebSocket protocol on /_stcore/stream.

Used by the load test (bench/locustfile.py) and its smoke test. It does what the browser's Streamlit
frontend does on the wire, and nothing about HipGuide is hard-coded here:

- opens the WebSocket with the "streamlit" subprotocol and asks for a script run (BackMsg rerun_script
  with a ClientState), then reads ForwardMsg messages until `script_finished`;
- keeps the widgets each run draws, found by their user key (a widget's id ends in "-<key>"), so a
  caller sets "pt.phase" or "pt.f.night_pain" without knowing where the page puts it; stateful tabs
  are widgets too (their value is the open tab's label);
- sends every known widget's state with each rerun (WidgetStates), as the frontend does, and the
  fragment id when the widget lives in a fragment (then only that fragment reruns);
- keeps the messages the server marks cacheable and reports their hashes, resolving `ref_hash`
  replies from its cache, as the frontend's message cache does;
- downloads a deferred file the way the page does: a backend operation request for the file's URL,
  then an HTTP GET of that URL.

A client can bind to a given loopback source address, so that nginx's ip_hash spreads simulated
clinicians over replicas as it would spread clinic workstations.
"""

from __future__ import annotations

import contextlib
import http.client
import itertools
import socket
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import websocket
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

ID_PREFIX = "$$ID-"  # Streamlit's generated element ids: "$$ID-<hash>-<user key>"
FINISHED_OK = {ForwardMsg.FINISHED_SUCCESSFULLY, ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY}


class ProtocolError(Exception):
    """The server did something a browser would show as an error: an exception, a failed run, a closed socket."""


@dataclass
class Widget:
    key: str            # the user key the page gave it ("pt.f.night_pain")
    id: str             # Streamlit's element id, sent back in WidgetStates
    kind: str           # the Element oneof: "button_group", "number_input", "download_button", ...
    proto: Any          # the element's protobuf as last drawn
    fragment_id: str = ""

    @property
    def label(self) -> str:
        return getattr(self.proto, "label", "")

    @property
    def options(self) -> list[str]:
        """The options as shown (a segmented control's or selectbox's formatted options)."""
        return [getattr(o, "content", o) for o in getattr(self.proto, "options", [])]


@dataclass
class RunResult:
    """One script run as the client saw it."""

    seconds: float              # from sending the request to receiving script_finished
    status: int                 # ForwardMsg.ScriptFinishedStatus
    messages: int = 0
    bytes: int = 0
    exceptions: list[str] = field(default_factory=list)  # exception elements the page drew


def _user_key(element_id: str) -> str | None:
    if not element_id.startswith(ID_PREFIX):
        return None
    parts = element_id[len(ID_PREFIX):].split("-", 1)
    # A widget without a key ends in "-None".
    return parts[1] if len(parts) == 2 and parts[1] not in ("", "None") else None


class StreamlitClient:
    """One browser tab's worth of Streamlit session, driven over the WebSocket."""

    def __init__(self, base_url: str, *, source_address: str | None = None, timeout: float = 60.0):
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.path = parts.path.rstrip("/")
        self.source_address = source_address
        self.timeout = timeout
        self.ws: websocket.WebSocket | None = None
        self.widgets: dict[str, Widget] = {}   # user key -> widget, as of the last full run
        self.unkeyed: list[Widget] = []        # widgets without a user key (found by kind and label)
        self.values: dict[str, Any] = {}       # user key -> the value this client holds for it
        self.session_id = ""
        self.page_script_hash = ""
        self._cache: dict[str, ForwardMsg] = {}
        self._requests = itertools.count(1)

    # --- connection --------------------------------------------------------------------------------

    def _socket(self) -> socket.socket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.source_address:
            sock.bind((self.source_address, 0))
        sock.settimeout(self.timeout)
        sock.connect((self.host, self.port))
        return sock

    def http_get(self, path: str) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout,
                                          source_address=(self.source_address, 0) if self.source_address else None)
        try:
            conn.request("GET", path if path.startswith("/") else f"{self.path}/{path}")
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def open(self) -> RunResult:
        """What a browser does when the page opens: health check, WebSocket, and the first script run."""
        for route in ("_stcore/health", "_stcore/host-config"):
            status, _ = self.http_get(f"{self.path}/{route}")
            if status != 200:
                raise ProtocolError(f"GET /{route}: HTTP {status}")
        self.ws = websocket.create_connection(f"ws://{self.host}:{self.port}{self.path}/_stcore/stream",
                                              subprotocols=["streamlit"], socket=self._socket(),
                                              timeout=self.timeout, enable_multithread=False)
        return self.rerun()

    def close(self) -> None:
        if self.ws is not None:
            with contextlib.suppress(OSError, websocket.WebSocketException):
                self.ws.close(timeout=1)
            self.ws = None

    # --- widgets -----------------------------------------------------------------------------------

    def keys(self, prefix: str = "") -> list[str]:
        return [k for k in self.widgets if k.startswith(prefix)]

    def widget(self, key: str) -> Widget:
        try:
            return self.widgets[key]
        except KeyError:
            raise ProtocolError(f"no widget with key {key!r} on the page") from None

    def find(self, kind: str, label_contains: str = "") -> Widget | None:
        """The first widget of a kind whose label contains the text (keyless widgets: download buttons)."""
        want = label_contains.lower()
        return next((w for w in [*self.widgets.values(), *self.unkeyed] if w.kind == kind and want in w.label.lower()),
                    None)

    def set(self, key: str, value: Any) -> RunResult:
        """Set a widget's value as a click would, and wait for the run it causes."""
        widget = self.widget(key)
        if widget.kind == "button_group" and value is not None and value not in widget.options:
            raise ProtocolError(f"{key!r} has no option {value!r} (options: {widget.options})")
        self.values[key] = value
        return self.rerun(fragment_id=widget.fragment_id)

    def click(self, widget: Widget) -> RunResult:
        """Click a button (keyed or not): its trigger is sent with this one rerun only."""
        return self.rerun(fragment_id=widget.fragment_id, trigger_id=widget.id)

    def _widget_states(self, trigger_id: str | None) -> Any:
        from streamlit.proto.WidgetStates_pb2 import WidgetStates

        states = WidgetStates()
        if trigger_id:
            states.widgets.add(id=trigger_id, trigger_value=True)
        for key, widget in self.widgets.items():
            if widget.kind == "button_group":
                chosen = self.values.get(key, self._default_option(widget))
                state = states.widgets.add(id=widget.id)
                state.string_array_value.data.extend([] if chosen is None else [chosen])
            elif widget.kind == "tab_container" and self.values.get(key) is not None:
                states.widgets.add(id=widget.id, string_value=str(self.values[key]))  # the open tab's label
            elif widget.kind == "number_input" and self.values.get(key) is not None:
                value = self.values[key]
                if widget.proto.data_type == widget.proto.INT:
                    states.widgets.add(id=widget.id, int_value=int(value))
                else:
                    states.widgets.add(id=widget.id, double_value=float(value))
        return states

    @staticmethod
    def _default_option(widget: Widget) -> str | None:
        defaults = list(getattr(widget.proto, "default", []))
        options = widget.options
        return options[defaults[0]] if defaults and defaults[0] < len(options) else None

    # --- runs --------------------------------------------------------------------------------------

    def rerun(self, *, fragment_id: str = "", trigger_id: str | None = None) -> RunResult:
        msg = BackMsg()
        state = msg.rerun_script
        state.query_string = ""
        state.page_script_hash = self.page_script_hash
        state.fragment_id = fragment_id
        state.widget_states.CopyFrom(self._widget_states(trigger_id))
        state.cached_message_hashes.extend(self._cache)
        state.context_info.timezone = "Europe/London"
        state.context_info.locale = "en-GB"
        t0 = time.perf_counter()
        self._send(msg)
        return self._read_run(t0, full=not fragment_id)

    def _send(self, msg: BackMsg) -> None:
        if self.ws is None:
            raise ProtocolError("not connected")
        try:
            self.ws.send_binary(msg.SerializeToString())
        except (OSError, websocket.WebSocketException) as exc:
            raise ProtocolError(f"WebSocket send failed: {exc}") from exc

    def _receive(self) -> tuple[ForwardMsg, int]:
        if self.ws is None:
            raise ProtocolError("not connected")
        try:
            opcode, data = self.ws.recv_data()
        except websocket.WebSocketTimeoutException as exc:
            raise ProtocolError(f"no message from the server within {self.timeout:.0f} s") from exc
        except (OSError, websocket.WebSocketException) as exc:
            raise ProtocolError(f"WebSocket closed: {exc}") from exc
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            raise ProtocolError("the server closed the WebSocket")
        msg = ForwardMsg()
        msg.ParseFromString(data)
        if msg.WhichOneof("type") == "ref_hash":
            cached = self._cache.get(msg.ref_hash)
            if cached is None:
                raise ProtocolError(f"server referred to a message this client never cached ({msg.ref_hash})")
            resolved = ForwardMsg()
            resolved.CopyFrom(cached)
            resolved.metadata.CopyFrom(msg.metadata)
            msg = resolved
        elif msg.metadata.cacheable and msg.hash:
            self._cache[msg.hash] = msg
        return msg, len(data)

    def _read_run(self, t0: float, *, full: bool) -> RunResult:
        seen: dict[str, Widget] = {}
        unkeyed: list[Widget] = []
        result = RunResult(0.0, -1)
        while True:
            msg, size = self._receive()
            result.messages += 1
            result.bytes += size
            kind = msg.WhichOneof("type")
            if kind == "new_session":
                self.session_id = msg.new_session.initialize.session_id or self.session_id
                self.page_script_hash = msg.new_session.page_script_hash or self.page_script_hash
            elif kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
                self._element(msg, seen, unkeyed, result)
            elif kind == "delta" and msg.delta.WhichOneof("type") == "add_block":
                self._block(msg, seen)
            elif kind == "page_not_found":
                raise ProtocolError(f"page not found: {msg.page_not_found.page_name!r}")
            elif kind == "session_event" and msg.session_event.WhichOneof("type") == "script_compilation_exception":
                result.exceptions.append(msg.session_event.script_compilation_exception.message)
            elif kind == "script_finished":
                result.status = msg.script_finished
                if msg.script_finished == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                    continue  # superseded by the run we asked for: keep reading
                result.seconds = time.perf_counter() - t0
                if full:
                    self.widgets, self.unkeyed = seen, unkeyed
                else:
                    self.widgets.update(seen)
                    self.unkeyed += [w for w in unkeyed if w.id not in {u.id for u in self.unkeyed}]
                if msg.script_finished not in FINISHED_OK:
                    raise ProtocolError(f"script run ended with status {msg.script_finished}")
                return result

    def _element(self, msg: ForwardMsg, seen: dict[str, Widget], unkeyed: list[Widget], result: RunResult) -> None:
        element = msg.delta.new_element
        kind = element.WhichOneof("type")
        if kind is None:
            return
        if kind == "exception":
            result.exceptions.append(f"{element.exception.type}: {element.exception.message}")
            return
        proto = getattr(element, kind)
        element_id = getattr(proto, "id", "") if hasattr(proto, "id") else ""
        if not isinstance(element_id, str) or not element_id.startswith(ID_PREFIX):
            return
        key = _user_key(element_id)
        if key is None:
            unkeyed.append(Widget("", element_id, kind, proto, msg.delta.fragment_id))
            return
        seen[key] = Widget(key, element_id, kind, proto, msg.delta.fragment_id)
        if getattr(proto, "set_value", False):
            self._take_server_value(seen[key])

    def _block(self, msg: ForwardMsg, seen: dict[str, Widget]) -> None:
        """A stateful container (tabs drawn with on_change="rerun") is a widget: the open tab is its value."""
        block = msg.delta.add_block
        if block.WhichOneof("type") != "tab_container" or not block.tab_container.id:
            return
        key = _user_key(block.tab_container.id)
        if key is not None:
            seen[key] = Widget(key, block.tab_container.id, "tab_container", block.tab_container, msg.delta.fragment_id)

    def _take_server_value(self, widget: Widget) -> None:
        """The page set this widget's value (st.session_state, e.g. "New patient"): hold the new value."""
        proto = widget.proto
        if widget.kind == "button_group":
            chosen = list(proto.raw_values)  # the selected options as shown (single-select: at most one)
            self.values[widget.key] = chosen[0] if chosen else None
        elif widget.kind == "number_input":
            self.values[widget.key] = proto.value if proto.HasField("value") else None

    # --- downloads ---------------------------------------------------------------------------------

    def download(self, widget: Widget) -> tuple[float, bytes]:
        """Fetch a download button's file: its URL from the server (deferred files), then a GET."""
        t0 = time.perf_counter()
        url = widget.proto.url
        if not url and widget.proto.deferred_file_id:
            msg = BackMsg()
            request = msg.backend_operation_request
            request.request_id = str(uuid.uuid4())
            request.session_id = self.session_id
            request.deferred_file.file_id = widget.proto.deferred_file_id
            self._send(msg)
            while True:
                reply, _ = self._receive()
                if reply.WhichOneof("type") != "backend_operation_response":
                    continue
                response = reply.backend_operation_response
                if response.request_id != request.request_id:
                    continue
                if response.error_msg:
                    raise ProtocolError(f"download of {widget.label!r} failed: {response.error_msg}")
                url = response.deferred_file.url
                break
        if not url:
            raise ProtocolError(f"download button {widget.label!r} has no file")
        status, body = self.http_get(url)
        if status != 200:
            raise ProtocolError(f"GET {url}: HTTP {status}")
        return time.perf_counter() - t0, body
