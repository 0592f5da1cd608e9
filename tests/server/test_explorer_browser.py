"""The explorer page in a real browser: headless Chromium (Debian's chromium and chromium-driver)
driven by Selenium, against a real `wordstack serve` of two small models trained in the session.

Skipped, with the reason, where Chromium is not installed; under CI (CI=true), where .ci/run
installs it, a missing Chromium is a failure instead, so these tests cannot silently vanish.
"""
from __future__ import annotations

import os
import shutil
import urllib.parse

import pytest
from server_helpers import running_server

import corpus_tools as ct

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
MISSING = [p for p in (CHROMIUM, CHROMEDRIVER) if not shutil.which(p)]

if MISSING:
    reason = (f"no headless browser: {', '.join(MISSING)} not found; install Debian's packages with "
              "`apt-get install chromium chromium-driver` (.ci/run does)")
    if os.environ.get("CI"):
        raise RuntimeError(f"the browser tests must run in CI but cannot: {reason}")
    pytest.skip(reason, allow_module_level=True)

selenium = pytest.importorskip("selenium", reason="selenium is in the test extra: pip install -e '.[test]'")
from selenium import webdriver  # noqa: E402
from selenium.common.exceptions import TimeoutException  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

pytestmark = pytest.mark.browser
TIMEOUT = 60


@pytest.fixture(scope="module")
def server(small_model, wide_model):
    with running_server([small_model, wide_model]) as server:
        yield server


@pytest.fixture(scope="module")
def driver():
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1280,1000", "--lang=en"):
        options.add_argument(arg)
    # the driver's path is given: Selenium Manager downloads nothing
    browser = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    browser.set_page_load_timeout(TIMEOUT)
    yield browser
    browser.quit()


def wait(driver, condition):
    return WebDriverWait(driver, TIMEOUT).until(condition)


def css(driver, selector):
    return driver.find_elements(By.CSS_SELECTOR, selector)


def visible(driver, selector):
    return wait(driver, EC.visibility_of_element_located((By.CSS_SELECTOR, selector)))


def query_of(driver) -> dict:
    return urllib.parse.parse_qs(urllib.parse.urlsplit(driver.current_url).query)


def lists(driver, root="#similar-results") -> list[list[str]]:
    """The words of each model's list, in order, once every list is drawn."""
    wait(driver, lambda d: len(css(d, f"{root} article.model")) == 2
         and all(css(col, "ol.scores li, ul.scores li, p.unknown") for col in css(d, f"{root} article.model")))
    return [[a.text for a in css(col, ".scores a.word")] for col in css(driver, f"{root} article.model")]


def neighbours(model, words, n=10):
    return [nb.word for nb in ct.load_vectors(model).most_similar(ct.query_terms(ct.load_vectors(model), words),
                                                                   topn=n)]


def search(driver, server, text):
    driver.get(server.url)
    box = visible(driver, "#q")
    box.clear()
    box.send_keys(text + Keys.ENTER)
    wait(driver, lambda d: query_of(d).get("q") == [text])


def test_typing_a_word_shows_both_models_side_by_side_with_their_maps(driver, server, small_model, wide_model):
    search(driver, server, "romeo")
    got = lists(driver)
    assert got == [neighbours(small_model, "romeo"), neighbours(wide_model, "romeo")]
    headings = [h.text for h in css(driver, "#similar-results article.model h2")]
    assert headings == [ct.load_vectors(small_model).label, ct.load_vectors(wide_model).label]
    # every bar is the cosine: the first neighbour's bar is the widest of its list
    assert css(driver, "#similar-results .score")[0].text == f"{ct.load_vectors(small_model).most_similar('romeo')[0].score:.3f}"
    # one map per model: one label per neighbour plus the query, the same words as the list
    wait(driver, lambda d: len(css(d, "figure.map svg")) == 2)
    for figure, words in zip(css(driver, "figure.map"), got):
        labels = [t.text for t in css(figure, "g.labels text")]
        assert len(labels) == 11 and sorted(labels) == sorted(["romeo", *words])
        assert [t.text for t in css(figure, "g.labels a.query text")] == ["romeo"]
    assert driver.title == "romeo · wordstack explorer"


def test_several_words_and_a_phrase_are_one_query(driver, server, small_model, wide_model):
    search(driver, server, "king queen")
    assert lists(driver) == [neighbours(small_model, "king queen"), neighbours(wide_model, "king queen")]


def test_clicking_a_neighbour_explores_it_and_back_returns(driver, server, wide_model):
    search(driver, server, "romeo")
    before = lists(driver)
    target = before[1][0]
    css(driver, "#similar-results article.model")[1].find_element(By.CSS_SELECTOR, "ol.scores a.word").click()
    wait(driver, lambda d: query_of(d).get("q") == [target])
    wait(driver, lambda d: css(d, "#similar-title")[0].text == f"Nearest words to “{target}”")
    after = lists(driver)
    assert after[1] == neighbours(wide_model, target) and after != before
    driver.back()
    wait(driver, lambda d: query_of(d).get("q") == ["romeo"])
    wait(driver, lambda d: css(d, "#similar-title")[0].text == "Nearest words to “romeo”")
    assert lists(driver) == before
    assert visible(driver, "#q").get_attribute("value") == "romeo"
    driver.forward()
    wait(driver, lambda d: query_of(d).get("q") == [target])
    assert lists(driver) == after


def test_a_shared_url_shows_the_same_view(driver, server, small_model):
    driver.get(server.url + "?q=juliet&n=5")
    got = lists(driver)
    assert got[0] == neighbours(small_model, "juliet", n=5) and len(got[1]) == 5
    assert visible(driver, "#n").get_attribute("value") == "5"


def test_an_unknown_word_shows_suggestions_and_one_click_asks_again(driver, server, small_model):
    search(driver, server, "romeoo")
    box = visible(driver, "#error")
    assert "“romeoo” is not in the vocabulary of any model." in box.text
    links = css(driver, "#error a.suggestion")
    suggestions = ct.load_vectors(small_model).suggest("romeoo")
    assert [a.text for a in links][:len(suggestions)] == suggestions
    links[0].click()
    wait(driver, lambda d: query_of(d).get("q") == [suggestions[0]])
    assert lists(driver)[0] == neighbours(small_model, suggestions[0])
    assert visible(driver, "#q").get_attribute("value") == suggestions[0]


def test_completion_from_the_vocabulary_with_the_keyboard(driver, server):
    driver.get(server.url)
    box = visible(driver, "#q")
    box.send_keys("rom")
    options = wait(driver, lambda d: [o for o in css(d, "#q-options [role=option]") if o.is_displayed()])
    words = [o.text for o in options]
    assert words and all(w.startswith("rom") for w in words)
    assert box.get_attribute("aria-expanded") == "true"
    box.send_keys(Keys.ARROW_DOWN, Keys.ARROW_DOWN)
    assert box.get_attribute("aria-activedescendant") == "q-options-1"
    box.send_keys(Keys.ARROW_UP, Keys.ENTER)
    wait(driver, lambda d: query_of(d).get("q") == [words[0]])
    assert len(lists(driver)) == 2


def wait_for_lit_labels(driver, name):
    """Wait until each map's highlighted labels are exactly ``name`` where that map has it; on a
    timeout, say what each map had and lit."""
    def maps():
        return [([a.get_attribute("data-word") for a in f.find_elements(By.CSS_SELECTOR, "g.labels a")],
                 [a.get_attribute("data-word") for a in f.find_elements(By.CSS_SELECTOR, "g.labels a.hl")])
                for f in css(driver, "figure.map")]

    def lit_as_expected(_):
        state = maps()
        return state[1][1] == [name] and all(lit == ([name] if name in words else []) for words, lit in state)

    try:
        wait(driver, lit_as_expected)
    except TimeoutException:
        pytest.fail(f"hovering {name!r}: the maps' (labels, lit labels) are {maps()}")


def test_hovering_a_word_highlights_it_in_the_lists_and_the_map(driver, server):
    search(driver, server, "romeo")
    lists(driver)
    wait(driver, lambda d: len(css(d, "figure.map svg")) == 2)
    word = css(driver, "#similar-results article.model")[1].find_elements(By.CSS_SELECTOR, "ol.scores a.word")[2]
    ActionChains(driver).move_to_element(word).perform()
    name = word.text
    # each map lights the word where it has it, and nothing else: both maps when the word is
    # among both models' neighbours (the fixtures train with two workers, so that varies by run)
    wait_for_lit_labels(driver, name)
    label = css(driver, "figure.map")[1].find_element(By.CSS_SELECTOR, f'g.labels a[data-word="{name}"]')
    ActionChains(driver).move_to_element(css(driver, "#q")[0]).perform()
    wait(driver, lambda d: not css(d, "g.labels a.hl"))
    ActionChains(driver).move_to_element(label).perform()       # and the other way round
    wait(driver, lambda d: name in [li.find_element(By.CSS_SELECTOR, "a.word").text
                                    for li in css(d, "#similar-results li.hl")])


def test_the_analogy_form_answers(driver, server, small_model, wide_model):
    driver.get(server.url)
    visible(driver, 'nav.views a[data-view="analogy"]').click()
    for name, word in zip("abc", ("man", "king", "woman")):
        visible(driver, f"#{name}").send_keys(word)
    css(driver, "#analogy button[type=submit]")[0].click()
    wait(driver, lambda d: query_of(d).get("view") == ["analogy"] and query_of(d).get("c") == ["woman"])
    expected = [[nb.word for nb in ct.load_vectors(m).analogy("man", "king", "woman", 10)] for m in (small_model, wide_model)]
    assert lists(driver, "#analogy-results") == expected
    assert css(driver, "#analogy-results .query-line")[0].text == "man : king :: woman : ?"


def test_the_odd_one_out_form_answers(driver, server, small_model, wide_model):
    driver.get(server.url + "?view=odd")
    visible(driver, "#w").send_keys("romeo juliet tybalt sword" + Keys.ENTER)
    wait(driver, lambda d: query_of(d).get("w") == ["romeo", "juliet", "tybalt", "sword"])
    wait(driver, lambda d: len(css(d, "#odd-results .odd")) == 2)
    expected = [ct.load_vectors(m).doesnt_match(["romeo", "juliet", "tybalt", "sword"])[0]
                for m in (small_model, wide_model)]
    assert [p.text for p in css(driver, "#odd-results .odd")] == [f"Odd one out: {w}" for w in expected]
    assert [len(css(col, "ul.scores li")) for col in css(driver, "#odd-results article.model")] == [4, 4]
    # too few words: said in the page, no blank page
    box = visible(driver, "#w")
    box.clear()
    box.send_keys("romeo juliet" + Keys.ENTER)
    assert "Give at least 3 words to compare; got 2." in visible(driver, "#error").text


def test_api_errors_are_shown_in_the_page(driver, server):
    driver.get(server.url + "?view=analogy&a=man&b=kingzz&c=woman")
    box = visible(driver, "#error")
    assert "“kingzz” is not in the vocabulary of any model." in box.text
    suggestion = css(driver, "#error a.suggestion")[0]
    replacement = suggestion.text
    suggestion.click()
    wait(driver, lambda d: query_of(d).get("b") == [replacement])      # the analogy asked again with it
    assert len(lists(driver, "#analogy-results")) == 2


def test_a_subword_model_answers_an_unknown_word_and_the_page_says_how(driver, small_model, subword_model):
    vecs = ct.load_vectors(subword_model)
    word = "romeoish"
    assert word not in vecs.index and vecs.from_subwords(word)
    with running_server([small_model, subword_model]) as served:
        search(driver, served, word)
        small, subwords = lists(driver)
        assert small == []                                          # the plain model does not know it...
        columns = css(driver, "#similar-results article.model")
        assert "“romeoish” is not in this model's vocabulary" in css(columns[0], "p.unknown")[0].text
        assert subwords == neighbours(subword_model, word)         # ...the subword model answers it
        note = css(columns[1], "p.note.subwords")
        assert len(note) == 1 and note[0].text == ("“romeoish” is not in this model's vocabulary: built from "
                                                   "character n-grams (subwords).")
        assert not css(columns[0], "p.note.subwords")
        search(driver, served, "romeo")                             # a known word: no note
        lists(driver)
        assert not css(driver, "#similar-results p.note.subwords")
