"""The JSON API through Starlette's test client: the same payloads as the CLI's --json, answers
checked against brute force, bounds, errors (never a traceback), the host check."""
from __future__ import annotations

import json
import logging

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

import corpus_tools as ct
import wordstack.server._app as app_module
from wordstack.cli import cli
from wordstack.server import MAX_N, MAX_QUERY_BYTES, MAX_WORD_CHARS, MAX_WORDS, ModelSet, PrefixIndex, create_app


@pytest.fixture(scope="module")
def client(tiny, tiny_b):
    return TestClient(create_app(ModelSet.load([tiny, tiny_b])), raise_server_exceptions=False)


def get(client, path, status=200, **params):
    r = client.get(path, params=params)
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/json"
    return r.json()


def cli_json(*args):
    result = CliRunner().invoke(cli, [str(a) for a in args])
    return json.loads(result.stdout)


def error_of(client, path, status, **params):
    body = get(client, path, status, **params)
    assert body["error"]["status"] == status
    assert "Traceback" not in json.dumps(body)
    return body["error"]


# ----------------------------------------------------------------------------- the same answers as the CLI


def test_models_lists_each_model_once(client, tiny, tiny_b):
    models = get(client, "/api/models")["models"]
    assert [m["id"] for m in models] == ["tiny", "tiny-b"]
    assert [m["model"] for m in models] == [str(tiny), str(tiny_b)]
    assert [(m["vector_size"], m["epochs"], m["vocab_size"]) for m in models] == [(6, 1, 16), (8, 3, 14)]
    assert models[1]["label"] == ct.load_vectors(tiny_b).label


def test_two_folders_of_one_name_get_distinct_ids(tiny, tmp_path):
    import shutil

    shutil.copytree(tiny, tmp_path / "a" / "tiny")
    ids = [m.id for m in ModelSet.load([tiny, tmp_path / "a" / "tiny", tiny]).models]
    assert ids == ["tiny", "tiny-2", "tiny-3"]


@pytest.mark.parametrize("words", [["king"], ["king", "queen"], ["Expecto Patronum"]])
def test_similar_is_the_cli_payload(client, tiny, tiny_b, words):
    api = get(client, "/api/similar", q=words, n=4)
    assert api == cli_json("similar", *words, "-m", tiny, "-m", tiny_b, "-n", 4, "--json")


def test_similar_answers_are_the_brute_force_neighbours(client, tiny):
    v = ct.load_vectors(tiny)
    unit = np.asarray(v.unit, dtype=np.float64)
    q = unit[v.index["king"]] + unit[v.index["queen"]]
    scores = unit @ (q / np.linalg.norm(q))
    order = [i for i in np.argsort(-scores, kind="stable") if v.words[i] not in ("king", "queen")][:5]
    # a phrase of two words is their mean, as the CLI's `similar "king queen"`
    (entry, _) = get(client, "/api/similar", q="king queen", n=5)["results"]
    assert [n["word"] for n in entry["neighbors"]] == [v.words[i] for i in order]
    assert [n["score"] for n in entry["neighbors"]] == pytest.approx([scores[i] for i in order], abs=2e-6)


def test_analogy_odd_one_out_similarity_are_the_cli_payloads(client, tiny, tiny_b):
    models = ["-m", tiny, "-m", tiny_b]
    assert get(client, "/api/analogy", a="man", b="king", c="woman", n=3) == \
        cli_json("analogy", "man", "king", "woman", *models, "-n", 3, "--json")
    assert get(client, "/api/odd-one-out", w=["apple", "pear", "plum", "sword"]) == \
        cli_json("odd-one-out", "apple", "pear", "plum", "sword", *models, "--json")
    assert get(client, "/api/similarity", a="king", b="queen") == \
        cli_json("similarity", "king", "queen", *models, "--json")
    body = get(client, "/api/odd-one-out", w=["apple", "pear", "plum", "sword"])
    assert [r["odd"] for r in body["results"]] == ["sword", "sword"]


def test_model_parameter_selects_models_in_order(client):
    body = get(client, "/api/similar", q="king", model=["tiny-b", "tiny"])
    assert [r["label"].split()[0] for r in body["results"]] == ["tiny-b", "tiny"]
    err = error_of(client, "/api/similar", 400, q="king", model="big")
    assert err["message"] == "no model 'big' is served; the models are tiny, tiny-b (see /api/models)"


def test_map_is_the_pca_of_the_query_and_its_neighbours(client, tiny):
    body = get(client, "/api/map", q="king", n=5)
    entry = body["results"][0]
    v = ct.load_vectors(tiny)
    neighbours = [n.word for n in v.most_similar("king", topn=5)]
    assert entry["terms"] == ["king"] and [n["word"] for n in entry["neighbors"]] == neighbours
    assert [p["word"] for p in entry["points"]] == ["king", *neighbours]
    expected = ct.map_words(v, ["king", *neighbours], method="pca").to_dict()
    assert entry["method"] == "pca" and entry["explained_variance"] == pytest.approx(expected["explained_variance"])
    assert [c for p in entry["points"] for c in (p["x"], p["y"])] == \
        pytest.approx([c for p in expected["points"] for c in (p["x"], p["y"])], abs=1e-9)
    assert error_of(client, "/api/map", 400, q="king", n=1)["message"] == "n must be between 2 and 50, got 1"


def test_complete_is_most_frequent_first_and_merged(client):
    body = get(client, "/api/complete", prefix="pr", n=5)
    assert [w["word"] for w in body["words"]] == ["prince", "princess"]       # rows 4 and 5: frequency order
    assert [[w["word"] for w in r["words"]] for r in body["results"]] == [["prince", "princess"]] * 2
    assert body["words"][0]["count"] == 120
    assert [w["word"] for w in get(client, "/api/complete", prefix="CA")["words"]] == ["café"]   # lowercased
    assert [w["word"] for w in get(client, "/api/complete", prefix="expecto pa")["words"]] == ["expecto_patronum"]
    assert get(client, "/api/complete", prefix="zz")["words"] == []
    assert [w["word"] for w in get(client, "/api/complete", prefix="k", n=1)["words"]] == ["king"]


@settings(max_examples=60, deadline=None)
@given(vocab=st.lists(st.text(alphabet="abcé_ ", min_size=1, max_size=5), min_size=1, max_size=40, unique=True),
       prefix=st.text(alphabet="abcé", min_size=1, max_size=3), n=st.integers(1, 8))
def test_prefix_index_is_the_brute_force_completion(vocab, prefix, n):
    words = [w.replace(" ", "_") for w in vocab]
    words = list(dict.fromkeys(words))
    expected = [i for i, w in enumerate(words) if w.startswith(prefix)][:n]
    assert list(PrefixIndex(words).ranks(prefix, n)) == expected
    assert PrefixIndex(words).complete(prefix, n) == expected


# ----------------------------------------------------------------------------- unknown words


def test_unknown_word_everywhere_is_404_with_suggestions(client):
    body = get(client, "/api/similar", 404, q="kingz")
    assert body["error"] == {
        "status": 404, "unknown": "kingz", "suggestions": ["king", "kings"],
        "message": "'kingz' is not in the vocabulary of any of the 2 models; did you mean: king, kings?"}
    assert [r["unknown"] for r in body["results"]] == ["kingz", "kingz"] and body["query"] == "kingz"
    for path, params in [("/api/analogy", dict(a="man", b="kingz", c="woman")),
                         ("/api/odd-one-out", dict(w=["apple", "pear", "kingz"])),
                         ("/api/similarity", dict(a="kingz", b="queen")), ("/api/map", dict(q="kingz"))]:
        assert error_of(client, path, 404, **params)["suggestions"][:1] == ["king"], path


def test_one_model_lacking_the_word_still_answers(client):
    body = get(client, "/api/similar", q="café")
    assert "neighbors" in body["results"][0] and body["results"][1]["unknown"] == "café"
    err = error_of(client, "/api/similar", 404, q="café", model="tiny-b")
    assert err["message"].startswith("'café' is not in the vocabulary of model tiny-b")


# ----------------------------------------------------------------------------- malformed requests and bounds


@pytest.mark.parametrize("path, params, message", [
    ("/api/similar", {}, "q is missing; give it as ?q=..."),
    ("/api/similar", {"q": " "}, "q is missing; give it as ?q=..."),
    ("/api/similar", {"q": "king", "n": "ten"}, "n must be an integer, got 'ten'"),
    ("/api/similar", {"q": "king", "n": "0"}, f"n must be between 1 and {MAX_N}, got 0"),
    ("/api/similar", {"q": "king", "n": str(MAX_N + 1)}, f"n must be between 1 and {MAX_N}, got {MAX_N + 1}"),
    ("/api/similar", {"q": "king", "n": ["1", "2"]}, "n was given 2 times; give it once"),
    ("/api/similar", {"q": "king", "topn": "3"}, "unknown parameter 'topn'; this endpoint takes q, n, model"),
    ("/api/similar", {"q": "k" * (MAX_WORD_CHARS + 1)},
     f"q is {MAX_WORD_CHARS + 1} characters long; at most {MAX_WORD_CHARS} are accepted"),
    ("/api/similar", {"q": ["king queen"] * (MAX_WORDS // 2) + ["fig"]},
     f"q holds {MAX_WORDS + 1} words; at most {MAX_WORDS} are accepted"),
    ("/api/odd-one-out", {"w": ["apple", "pear"]}, "w needs at least 3 values (repeat it: ?w=...&w=...), got 2"),
    ("/api/analogy", {"a": "man", "b": "king"}, "c is missing; give it as ?c=..."),
    ("/api/similarity", {"a": "man", "b": "king", "c": "x"}, "unknown parameter 'c'; this endpoint takes a, b, model"),
    ("/api/complete", {"prefix": ""}, "prefix is missing; give it as ?prefix=..."),
    ("/api/models", {"x": "1"}, "unknown parameter 'x'; this endpoint takes no parameters"),
])
def test_malformed_requests_are_400_with_the_reason(client, path, params, message):
    assert error_of(client, path, 400, **params)["message"] == message


def test_a_long_query_string_is_414(client):
    err = error_of(client, "/api/similar", 414, q=["king"] * (MAX_QUERY_BYTES // 6 + 1))
    assert err["message"].startswith("the query string is ") and "at most 4,096 are accepted" in err["message"]


def test_other_paths_and_methods_are_json_errors(client):
    assert error_of(client, "/api/nothing", 404)["message"].startswith("no such page /api/nothing")
    r = client.post("/api/similar", params={"q": "king"})
    assert r.status_code == 405 and sorted(r.headers["allow"].split(", ")) == ["GET", "HEAD"]
    assert r.json()["error"]["message"] == "POST is not allowed: the server is read-only; use GET"
    r = client.head("/api/similar", params={"q": "king"})
    assert r.status_code == 200 and r.content == b""


def test_a_server_fault_is_a_500_without_traceback(tiny, monkeypatch, caplog):
    model_set = ModelSet.load([tiny])
    monkeypatch.setattr(model_set.models[0].vectors, "most_similar",
                        lambda *a, **k: (_ for _ in ()).throw(RuntimeError("secret internals")))
    client = TestClient(create_app(model_set), raise_server_exceptions=False)
    with caplog.at_level(logging.ERROR, logger="wordstack.server._app"):
        r = client.get("/api/similar", params={"q": "king"})
    assert r.status_code == 500
    assert r.json() == {"error": {"status": 500, "message": "internal error while answering /api/similar; "
                                                            "the server's log has the details"}}
    assert "secret" not in r.text and "Traceback" not in r.text
    assert "secret internals" in caplog.text          # the traceback is the server's, in its log


def test_queries_in_the_thread_pool_answer_the_same(tiny, tiny_b, client, monkeypatch):
    monkeypatch.setattr(app_module, "INLINE_ELEMENTS", 0)
    pooled = TestClient(create_app(ModelSet.load([tiny, tiny_b])))
    for path, params in [("/api/similar", {"q": "king"}), ("/api/map", {"q": "fig", "n": 3})]:
        assert pooled.get(path, params=params).json() == client.get(path, params=params).json()


# ----------------------------------------------------------------------------- the host check


def test_a_loopback_server_refuses_foreign_host_headers(tiny):
    app = create_app(ModelSet.load([tiny]), allowed_hosts=("127.0.0.1", "localhost", "::1", "[::1]"))
    for base in ("http://127.0.0.1:8000", "http://localhost", "http://[::1]:8000"):
        assert TestClient(app, base_url=base).get("/api/models").status_code == 200, base
    r = TestClient(app, base_url="http://rebound.example:8000").get("/api/models")
    assert r.status_code == 421
    assert r.json()["error"]["message"] == ("this server answers only requests addressed to 127.0.0.1, "
                                            "localhost, [::1], not 'rebound.example:8000'")


# ----------------------------------------------------------------------------- the explorer page and its files


def test_the_page_and_its_files_are_served_from_the_package_with_no_outside_reference(client):
    import re

    r = client.get("/")
    assert r.status_code == 200 and r.headers["content-type"] == "text/html; charset=utf-8"
    assert r.headers["content-security-policy"].startswith("default-src 'self'")
    page = r.text
    assert '<label for="q"' in page and 'role="combobox"' in page
    refs = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert refs and all(ref.startswith("/") or ref.startswith("#") for ref in refs), refs   # no CDN, no network
    for path, kind in [("/static/app.js", "javascript"), ("/static/app.css", "text/css"),
                       ("/static/favicon.svg", "image/svg+xml")]:
        r = client.get(path)
        assert r.status_code == 200 and kind in r.headers["content-type"], path
        assert "http://" not in r.text.replace("http://www.w3.org/2000/svg", "") and "https://" not in r.text, path
    assert error_of(client, "/static/nothing.js", 404)["message"].startswith("no such page /static/nothing.js")


def test_every_file_of_the_page_is_package_data():
    """setup.cfg's package_data for wordstack.server covers each file in static/, so an install
    (not only an editable one) ships the page."""
    import configparser
    from fnmatch import fnmatch
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    cfg = configparser.ConfigParser()
    cfg.read(root / "setup.cfg")
    patterns = cfg["options.package_data"]["wordstack.server"].replace(",", " ").split()
    static = root / "wordstack" / "server" / "static"
    files = sorted(p.relative_to(static.parent).as_posix() for p in static.iterdir())
    assert files and all(any(fnmatch(f, pat) for pat in patterns) for f in files), (files, patterns)
    assert "wordstack.server" in cfg["options"]["packages"].split()
