"""The load tool's own logic (bench/loadtool/): statistics, cookies, HTTP, the messages it builds and parses
(real Streamlit protos), widget discovery and widget states from a recorded Chromium session, the message cache."""

from __future__ import annotations

import asyncio
import base64
import math
import os
import random
import time
from pathlib import Path

import numpy as np
import pytest
from streamlit.elements.lib.options_selector_utils import create_mappings
from streamlit.elements.widgets.select_slider import SelectSliderSerde
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.Element_pb2 import Element
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.NumberInput_pb2 import NumberInput
from streamlit.proto.Slider_pb2 import Slider
from streamlit.proto.WidgetStates_pb2 import WidgetState

from bench.loadtool.messages import (
    MessageCache,
    RunResult,
    build_rerun,
    select_slider_state,
    slider_state,
    widget_label,
    widget_state_of,
)
from bench.loadtool.profiles import PROFILES, TRIVIAL_APP, TRIVIAL_NODELAY_APP, PlaygroundProfile, TrivialProfile
from bench.loadtool.report import Interaction, LoadReport, StudentLog, kinds_row, percentile, summarize, table_row
from bench.loadtool.resources import ProcSampler, proc_cpu_seconds, proc_rss_bytes, total_rss, with_descendants
from bench.loadtool.session import HttpResponse, Session, cookie_header, http_get, parse_set_cookie, run_coroutine
from settings.controls import LR_GRID

DATA = Path(__file__).resolve().parent / "data"


def recorded_first_run() -> list[bytes]:
    """Every frame Chromium received for its first run of the playground (figure specs emptied)."""
    return [base64.b64decode(line) for line in (DATA / "chromium_first_run.b64").read_text().split()]


def recorded_rerun() -> BackMsg:
    """The rerun Chromium sent after one ArrowRight on the learning-rate slider of that page."""
    msg = BackMsg()
    msg.ParseFromString(base64.b64decode((DATA / "chromium_rerun.b64").read_text().strip()))
    return msg


def replay_first_run(session: Session) -> RunResult:
    result = RunResult()
    for raw in recorded_first_run():
        session.receive(result, raw)
    session.finish(result)
    return result


# ---------------------------------------------------------------------------------------------------- statistics


@pytest.mark.parametrize("q", [0, 1, 25, 50, 90, 95, 99, 100])
@pytest.mark.parametrize("n", [1, 2, 7, 100])
def test_percentile_matches_numpy(q, n):
    values = np.random.default_rng(n).exponential(size=n).tolist()
    assert percentile(values, q) == pytest.approx(float(np.percentile(values, q)), rel=1e-12)


def test_percentile_of_known_values():
    assert percentile([1, 2, 3, 4], 50) == 2.5
    assert percentile([4, 1, 3, 2], 100) == 4  # order of the input does not matter
    assert percentile(range(1, 101), 95) == pytest.approx(95.05)
    assert math.isnan(percentile([], 50))
    with pytest.raises(ValueError, match="outside 0 to 100"):
        percentile([1], 101)


def test_summarize():
    s = summarize([0.1, 0.2, 0.3, 0.4])
    assert s["n"] == 4 and s["max"] == 0.4 and s["mean"] == pytest.approx(0.25) and s["p50"] == pytest.approx(0.25)
    assert math.isnan(summarize([])["p95"])


# ---------------------------------------------------------------------------------------------------- cookies, HTTP


def test_parse_set_cookie_of_streamlit_and_nginx():
    streamlit = "_streamlit_xsrf=2|6ae4ce4b|d4d52032c7ea142a01b576b74ed9f3f8|1795320094; Path=/; SameSite=Lax"
    token = "2|6ae4ce4b|d4d52032c7ea142a01b576b74ed9f3f8|1795320094"
    assert parse_set_cookie(streamlit) == ("_streamlit_xsrf", token)
    nginx = "playground_route=11e3c12d215390172860beebb72711d6; Path=/; HttpOnly; SameSite=Lax"
    assert parse_set_cookie(nginx) == ("playground_route", "11e3c12d215390172860beebb72711d6")
    assert parse_set_cookie('a="quoted value"') == ("a", "quoted value")
    assert parse_set_cookie("no-equals-sign") is None
    response = HttpResponse(200, [("set-cookie", streamlit), ("Set-Cookie", nginx), ("X", "y")], b"ok")
    assert set(response.cookies()) == {"_streamlit_xsrf", "playground_route"}
    assert cookie_header({"a": "1", "b": "2"}) == "a=1; b=2"


def test_http_get_reads_headers_cookies_and_a_chunked_body():
    async def scenario():
        seen = {}

        async def handle(reader, writer):
            seen["request"] = (await reader.readuntil(b"\r\n\r\n")).decode()
            writer.write(
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nSet-Cookie: k=v; Path=/\r\n\r\n"
                b"2\r\nok\r\n3\r\n!!!\r\n0\r\n\r\n"
            )
            await writer.drain()
            writer.close()

        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        try:
            response = await http_get(f"http://127.0.0.1:{port}/_stcore/health", {"c": "1"}, timeout=10)
        finally:
            server.close()
            await server.wait_closed()
        return response, seen["request"]

    response, request = run_coroutine(scenario())
    assert response.status == 200 and response.body == b"ok!!!" and response.cookies() == {"k": "v"}
    assert request.startswith("GET /_stcore/health HTTP/1.1\r\n") and "Cookie: c=1\r\n" in request


def test_http_get_refuses_other_schemes():
    with pytest.raises(ValueError, match="only http"):
        run_coroutine(http_get("https://example.org/"))


# ---------------------------------------------------------------------------------------------------- messages


def test_build_rerun_round_trips_through_streamlit_protos():
    states = [select_slider_state("lr-id", "0.15"), slider_state("m-id", 0.35)]
    data = build_rerun("lr=0.1&seed=3", states, "pagehash", ["h1", "h2"], "http://127.0.0.1:1/")
    msg = BackMsg()
    msg.ParseFromString(data)
    assert msg.WhichOneof("type") == "rerun_script"
    state = msg.rerun_script
    assert state.query_string == "lr=0.1&seed=3" and state.page_script_hash == "pagehash"
    assert list(state.cached_message_hashes) == ["h1", "h2"]
    assert state.context_info.url == "http://127.0.0.1:1/" and state.context_info.locale == "en-US"
    widgets = {w.id: w for w in state.widget_states.widgets}
    assert widgets["lr-id"].WhichOneof("value") == "string_array_value"
    assert list(widgets["lr-id"].string_array_value.data) == ["0.15"]
    assert list(widgets["m-id"].double_array_value.data) == [0.35]


def test_streamlit_decodes_the_select_slider_value_the_tool_sends():
    """Streamlit 1.67's select_slider takes the formatted option text (value-based), not an index."""
    fmt = lambda v: f"{v:g}"  # noqa: E731 (the playground's format_func)
    _, mapping = create_mappings(LR_GRID, fmt)
    serde = SelectSliderSerde(LR_GRID, formatted_option_to_index=mapping, default_indices=[0], format_func=fmt)
    for lr in (0.001, 0.15, 0.7, 10.0):
        state = select_slider_state("id", fmt(lr))
        assert serde.deserialize(list(state.string_array_value.data)) == lr
        assert serde.serialize(lr) == list(state.string_array_value.data)


def _element(kind: str, **fields) -> Element:
    element = Element()
    getattr(element, kind).MergeFrom(type(getattr(element, kind))(**fields))
    return element


def test_widget_states_of_each_widget_kind():
    select = _element("slider", id="a", label="L", type=Slider.SELECT_SLIDER, options=["1", "2", "3"], default=[0])
    assert list(widget_state_of(select).string_array_value.data) == ["1"]
    select.slider.raw_value.append("3")
    assert list(widget_state_of(select).string_array_value.data) == ["3"]
    numeric = _element("slider", id="b", label="M", type=Slider.SLIDER, data_type=Slider.FLOAT, default=[0.0])
    assert list(widget_state_of(numeric).double_array_value.data) == [0.0]
    numeric.slider.value.append(0.8)
    assert list(widget_state_of(numeric).double_array_value.data) == [0.8]
    box = _element("checkbox", id="c", label="N", default=True)
    assert widget_state_of(box).bool_value is True
    choice = _element("selectbox", id="d", label="O", options=["x", "y"], default=1)
    assert widget_state_of(choice).string_value == "y"
    choice.selectbox.raw_value = "x"
    assert widget_state_of(choice).string_value == "x"
    whole = _element("number_input", id="e", label="P", data_type=NumberInput.INT, default=3)
    assert widget_state_of(whole).int_value == 3
    real = _element("number_input", id="f", label="Q", data_type=NumberInput.FLOAT, default=-1.0, value=2.5)
    assert widget_state_of(real).double_value == 2.5
    assert widget_state_of(_element("markdown", body="text")) is None
    assert widget_label(_element("button", id="g", label="Go")) == ("button", "g", "Go")
    assert widget_label(_element("markdown", body="text")) is None


# ---------------------------------------------------------------------------------------------------- recorded session


def test_widget_ids_and_page_found_in_the_recorded_first_run():
    session = Session("http://127.0.0.1:1")
    result = replay_first_run(session)
    assert result.ok and result.status == ForwardMsg.FINISHED_SUCCESSFULLY
    lr_id, lr = result.widget("Learning rate")
    m_id, momentum = result.widget("Momentum")
    assert lr_id.endswith("-ctl_lr") and m_id.endswith("-ctl_momentum")
    assert lr.slider.type == Slider.SELECT_SLIDER and "0.1" in lr.slider.options
    assert momentum.slider.type == Slider.SLIDER
    assert "Final loss" in result.metrics and float(result.metrics["Final loss"]) > 0
    assert result.query_string.startswith("lr=0.001&seed=101&")  # the page wrote every control into the URL
    assert result.page_script_hash == recorded_rerun().rerun_script.page_script_hash  # the page's, not app.py's
    with pytest.raises(KeyError, match="seen:"):
        result.widget("No such slider")


def test_the_tool_builds_the_rerun_chromium_sent():
    """Replay Chromium's first run into a tool session, make the same move, compare with Chromium's rerun."""
    chromium = recorded_rerun().rerun_script
    session = Session("http://127.0.0.1:1")
    result = replay_first_run(session)
    lr_id, lr = result.widget("Learning rate")
    moved = next(w for w in chromium.widget_states.widgets if w.id == lr_id)
    tool = BackMsg()
    tool.ParseFromString(session.begin([select_slider_state(lr_id, moved.string_array_value.data[0])]))
    ours = tool.rerun_script
    assert ours.query_string == chromium.query_string
    assert ours.page_script_hash == chromium.page_script_hash
    assert sorted(ours.cached_message_hashes) == sorted(chromium.cached_message_hashes)
    assert chromium.fragment_id and ours.fragment_id == chromium.fragment_id  # the run's section alone

    def states(client_state) -> dict[str, WidgetState]:
        return {w.id: w for w in client_state.widget_states.widgets}

    assert states(ours) == states(chromium)  # every widget, the same value field, the same value


def test_playground_profile_moves_one_slider_to_a_new_run_and_checks_the_caption():
    session = Session("http://127.0.0.1:1")
    result = replay_first_run(session)
    profile = PlaygroundProfile()
    profile.start(result)
    rng = random.Random(1)
    lr_id, m_id = result.widget("Learning rate")[0], result.widget("Momentum")[0]
    seen = {("0.1", session.widgets[m_id].double_array_value.data[0])}
    for turn in range(1, 10):
        change = profile.next_change(result, rng, session.widgets)
        assert len(change.states) == 1  # one slider a move, as in a browser
        (state,) = change.states
        old_lr = session.widgets[lr_id].string_array_value.data[0]
        old_m = session.widgets[m_id].double_array_value.data[0]
        if turn % 3 == 0:  # every third move, the momentum
            assert change.kind == "momentum" and state.id == m_id
            new_m = state.double_array_value.data[0]
            assert new_m != old_m and 0 <= new_m < 1
            assert change.expect == [f"Momentum {old_m:g} → {new_m:g}", "Final loss: "]
        else:
            assert change.kind == "lr" and state.id == lr_id
            new_lr = state.string_array_value.data[0]
            assert new_lr != old_lr and 1e-3 <= float(new_lr) <= 1.0
            assert new_lr in result.widget("Learning rate")[1].slider.options
            assert change.expect == [f"Learning rate {old_lr} → {new_lr}", "Final loss: "]
        session.begin(change.states)  # the client now holds the new value
        key = (session.widgets[lr_id].string_array_value.data[0], session.widgets[m_id].double_array_value.data[0])
        assert key not in seen  # every move is a run this student has not computed
        seen.add(key)
    good = RunResult(status=0, texts=[f"Changed since the previous run: {change.expect[0]}", "Final loss: 1"])
    assert profile.check(change, good) is None
    assert "not shown" in profile.check(change, RunResult(status=0, texts=["Final loss: 1"]))


def test_cached_profile_opens_the_shared_link_and_moves_the_learning_rate_only():
    session = Session("http://127.0.0.1:1")
    result = replay_first_run(session)
    profile = PlaygroundProfile(cached=True)
    assert profile.query(3, 123) == profile.query(4, 456) == "lr=0.1"  # every student, the same data
    profile.start(result)
    options = profile.lr_options(result.widget("Learning rate")[1])
    assert options and all(1e-3 <= float(o) <= 1.0 for o in options) and "0.1" in options
    assert len(options) < len(result.widget("Learning rate")[1].slider.options)  # the range leaves some out
    rng = random.Random(2)
    for _ in range(7):
        change = profile.next_change(result, rng, session.widgets)
        assert len(change.states) == 1 and change.states[0].string_array_value.data[0] in options  # never momentum
        session.begin(change.states)


def test_trivial_profile():
    element = _element("slider", id="v", label="Value", type=Slider.SLIDER, data_type=Slider.INT, default=[0.0])
    result = RunResult(status=0, widgets={"Value": ("v", element)})
    change = TrivialProfile().next_change(result, random.Random(0))
    new = int(change.states[0].double_array_value.data[0])
    assert 0 < new <= 1000 and change.expect == [f"value = {new}"]


# ---------------------------------------------------------------------------------------------------- cache, /proc


def _cacheable(hash_: str) -> ForwardMsg:
    msg = ForwardMsg(hash=hash_)
    msg.metadata.cacheable = True
    msg.delta.new_element.markdown.body = "big"
    return msg


def test_message_cache_resolves_references_and_forgets_unused_messages():
    cache = MessageCache(max_age=2)
    cache.add(_cacheable("h1"))
    cache.add(ForwardMsg(hash="small"))  # not cacheable: not kept
    assert cache.hashes() == ["h1"]
    ref = ForwardMsg(ref_hash="h1")
    ref.metadata.delta_path[:] = [0, 4]
    resolved = cache.resolve(ref)
    assert resolved.delta.new_element.markdown.body == "big" and list(resolved.metadata.delta_path) == [0, 4]
    assert cache.resolve(ForwardMsg(ref_hash="unknown")) is None
    for _ in range(2):
        cache.finished_run()
    assert cache.hashes() == ["h1"]
    cache.finished_run()
    assert cache.hashes() == []


def test_a_ref_hash_the_client_lacks_is_an_error():
    session = Session("http://127.0.0.1:1")
    result = RunResult()
    session.receive(result, ForwardMsg(ref_hash="nope").SerializeToString())
    assert result.errors and not result.ok


# ---------------------------------------------------------------------------------------------------- fragments


def _drawn(element: Element, fragment_id: str = "") -> bytes:
    msg = ForwardMsg()
    msg.delta.new_element.CopyFrom(element)
    msg.delta.fragment_id = fragment_id
    return msg.SerializeToString()


def _finished(status: int) -> bytes:
    return ForwardMsg(script_finished=status).SerializeToString()


def _lr(value: str = "0.1") -> Element:
    return _element(
        "slider", id="lr-id", label="LR", type=Slider.SELECT_SLIDER, options=["0.1", "0.2"], raw_value=[value]
    )


def _momentum() -> Element:
    return _element("slider", id="m-id", label="M", type=Slider.SLIDER, data_type=Slider.FLOAT, default=[0.8])


def _run(session: Session, frames: list[bytes]) -> RunResult:
    result = RunResult()
    for raw in frames:
        session.receive(result, raw)
    session.finish(result)
    return result


def _sent(data: bytes) -> BackMsg:
    msg = BackMsg()
    msg.ParseFromString(data)
    return msg


def test_build_rerun_names_the_fragment_to_run():
    assert _sent(build_rerun(fragment_id="frag-1")).rerun_script.fragment_id == "frag-1"
    assert _sent(build_rerun()).rerun_script.fragment_id == ""


def test_a_move_of_widgets_in_one_fragment_reruns_that_fragment_alone():
    """As the browser does: the widgets drawn in an st.fragment carry its id, and moving only those names it."""
    session = Session("http://127.0.0.1:1")
    full = _run(session, [_drawn(_lr(), "frag-1"), _drawn(_momentum()), _finished(ForwardMsg.FINISHED_SUCCESSFULLY)])
    assert full.ok and full.fragments == {"lr-id": "frag-1"}
    lr_move = select_slider_state("lr-id", "0.2")
    m_move = slider_state("m-id", 0.5)
    assert _sent(session.begin([lr_move])).rerun_script.fragment_id == "frag-1"
    assert session.fragment_id == "frag-1"
    assert _sent(session.begin([lr_move, m_move])).rerun_script.fragment_id == ""  # the whole page
    assert _sent(session.begin([m_move])).rerun_script.fragment_id == ""


def test_after_a_fragment_run_the_rest_of_the_page_stays():
    session = Session("http://127.0.0.1:1")
    _run(session, [_drawn(_lr(), "frag-1"), _drawn(_momentum()), _finished(ForwardMsg.FINISHED_SUCCESSFULLY)])
    session.begin([slider_state("m-id", 0.5)])  # the client holds a moved momentum,
    assert session.begin([select_slider_state("lr-id", "0.2")]) and session.fragment_id  # then moves lr
    lr_only = [_drawn(_lr("0.2"), "frag-1"), _finished(ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY)]
    part = _run(session, lr_only)
    assert part.ok
    assert set(part.widgets) == {"LR", "M"} and part.widget("M")[0] == "m-id"  # what the page shows now
    assert list(session.widgets["m-id"].double_array_value.data) == [0.5]  # still sent with every rerun
    assert list(session.widgets["lr-id"].string_array_value.data) == ["0.2"]
    # a run of the whole page that draws no momentum slider: the browser drops it
    whole = _run(session, [_drawn(_lr("0.2"), "frag-1"), _finished(ForwardMsg.FINISHED_SUCCESSFULLY)])
    assert set(whole.widgets) == {"LR"} and set(session.widgets) == {"lr-id"}


def test_a_run_that_asks_for_a_rerun_is_followed_to_its_end():
    """A fragment that needs the whole page calls st.rerun(): its run ends early, then the page's run follows."""
    session = Session("http://127.0.0.1:1")
    result = RunResult()
    session.receive(result, _finished(ForwardMsg.FINISHED_EARLY_FOR_RERUN), 0.01)
    assert result.status is None and result.t_finished is None
    session.receive(result, _finished(ForwardMsg.FINISHED_SUCCESSFULLY), 0.05)
    assert result.status == ForwardMsg.FINISHED_SUCCESSFULLY and result.t_finished == 0.05 and result.ok


def test_proc_readings_of_this_process():
    assert proc_rss_bytes(os.getpid()) > 10_000_000
    assert proc_cpu_seconds(os.getpid()) > 0
    assert proc_rss_bytes(2**22 + 12345) == 0  # no such process
    sampler = ProcSampler([os.getpid()])
    assert sampler.sample().rss > 0 and len(sampler.samples) == 1


def test_the_sampler_counts_the_servers_workers_too():
    """A server's training workers (server/worker.py) are its children: their memory and CPU are the server's cost."""
    import subprocess
    import sys

    sleeper = "import time; time.sleep(30)"
    script = f"import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', {sleeper!r}]); time.sleep(30)"
    parent = subprocess.Popen([sys.executable, "-c", script])
    try:
        deadline = time.monotonic() + 20
        while len(with_descendants([parent.pid])) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        family = with_descendants([parent.pid])
        assert len(family) == 2 and family[0] == parent.pid
        child = family[1]
        time.sleep(1.0)  # both asleep by now: their memory no longer moves
        sample = ProcSampler([parent.pid]).sample()
        both = proc_rss_bytes(parent.pid) + proc_rss_bytes(child)
        assert abs(sample.rss - both) < 1_000_000 and sample.rss > 1.5 * proc_rss_bytes(parent.pid)
        assert abs(total_rss([parent.pid]) - both) < 1_000_000
    finally:
        for pid in with_descendants([parent.pid])[::-1]:
            os.kill(pid, 9)
        parent.wait()


def test_report_row_and_dict():
    log = StudentLog(
        interactions=[Interaction(0, 0.2, 0.01, 1000, True), Interaction(0, 0.4, 0.01, 3000, False)],
        load_latency=0.5,
        not_applied=["x"],
    )
    report = LoadReport("t", "trivial", 1, 1, 10.0, [log], rss_baseline=100e6, rss_peak=120e6, wall=10)
    d = report.as_dict()
    assert d["interactions"] == 2 and d["applied"] == 1 and d["errors"] == 0 and d["kb_per_interaction"] == 2.0
    assert d["latency_s"]["p50"] == pytest.approx(0.3)
    assert table_row(report).split()[:4] == ["t", "1", "2", "0"]


def test_latency_by_kind_of_move():
    kinds = [("lr", 0.1), ("lr", 0.3), ("lr + momentum", 0.8), ("lr", float("nan"))]  # nan: no script_finished
    log = StudentLog(interactions=[Interaction(0, t, None, 10, True, None, k) for k, t in kinds])
    report = LoadReport("t", "playground", 1, 1, 10.0, [log], wall=10)
    by_kind = report.as_dict()["latency_by_kind_s"]
    assert sorted(by_kind) == ["lr", "lr + momentum"]
    assert by_kind["lr"]["n"] == 2 and by_kind["lr"]["p50"] == pytest.approx(0.2)
    assert by_kind["lr + momentum"]["n"] == 1 and by_kind["lr + momentum"]["max"] == pytest.approx(0.8)
    assert kinds_row(report) == (
        "    by kind of move: lr: n 2, p50 200 ms, p95 290 ms; lr + momentum: n 1, p50 800 ms, p95 800 ms"
    )


def test_latency_by_the_other_students_moves_under_way():
    """A move counts the other moves whose time on the server overlapped its own (touching ends do not count)."""
    moves = [  # student, sent at, latency
        (0, 0.0, 0.10),  # overlaps student 1's first move
        (1, 0.05, 0.10),  # overlaps 0's first and 2's move
        (2, 0.12, 0.05),  # overlaps 1's first move only (0's first ended at 0.10)
        (0, 0.20, 0.05),  # ends where the next starts: no overlap
        (1, 0.25, 0.30),  # overlaps 0's and 2's last moves
        (0, 0.30, 0.02),
        (2, 0.40, 0.02),
        (3, 1.00, float("nan")),  # no script_finished: left out
    ]
    logs = [
        StudentLog(interactions=[Interaction(s, t, None, 10, True, sent_at=at) for s, at, t in moves if s == student])
        for student in range(4)
    ]
    report = LoadReport("t", "playground", 1, 4, 10.0, logs, wall=10)
    by_move = dict(zip([(i.student, i.sent_at) for i in report.interactions], report.overlaps(), strict=True))
    assert by_move[(0, 0.0)] == 1 and by_move[(1, 0.05)] == 2 and by_move[(2, 0.12)] == 1
    assert by_move[(0, 0.20)] == 0 and by_move[(1, 0.25)] == 2 and by_move[(0, 0.30)] == 1
    by_overlap = report.as_dict()["latency_by_overlap_s"]
    assert {k: v["n"] for k, v in by_overlap.items()} == {"0": 1, "1": 4, "2": 2}
    assert by_overlap["2"]["max"] == pytest.approx(0.30)
    assert "by other students' moves under way meanwhile: 0: n 1, p50 50 ms" in kinds_row(report)


def test_the_trivial_app_with_nagle_off_is_the_trivial_app_plus_the_fix():
    """--app trivial-nodelay: the same slider and text, and server/nodelay.py enabled once per process."""
    app = TRIVIAL_NODELAY_APP
    assert app.endswith(TRIVIAL_APP.split("\n", 2)[2]) and "st.cache_resource(nodelay.enable)()" in app
    compile(app, "trivial_nodelay_app.py", "exec")
    assert PROFILES["trivial-nodelay"] is TrivialProfile


def test_a_click_is_sent_for_one_run_only_and_a_class_link_shares_every_fourth_time():
    session = Session("http://127.0.0.1:1")
    button, nick = Element(), Element()
    button.button.id, button.button.label = "b1", "Share with the class"
    nick.text_input.id, nick.text_input.label = "t1", "Nickname"
    result = RunResult()
    result.widgets = {"Share with the class": ("b1", button), "Nickname": ("t1", nick)}
    result.status = ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY
    session.begin([WidgetState(id="t1", string_value="Ada"), WidgetState(id="b1", trigger_value=True)])
    session.finish(result)
    assert "b1" not in session.widgets and session.widgets["t1"].string_value == "Ada"
    profile = PlaygroundProfile(shared_link=True, class_code="K7QM2XHC")
    assert profile.query(3, 0) == "lr=0.1&class=K7QM2XHC"
    change = profile.share(result)
    assert change.kind == "share" and change.expect == [PlaygroundProfile.SHARED]
    assert [s.WhichOneof("value") for s in change.states] == ["string_value", "trigger_value"]
