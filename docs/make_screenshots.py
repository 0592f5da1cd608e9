"""Screenshots of the explorer page for the README, taken in headless Chromium.

Starts `wordstack serve` on the default Shakespeare models (run `wordstack demo` once
first: it builds both in $WORDSTACK_HOME), drives Debian's Chromium through Selenium
(chromedriver at /usr/bin/chromedriver; no driver download) and writes into docs/:

    explorer-search.png      neighbours of "romeo" in every model, side by side, with their maps
    explorer-completion.png  completion from the vocabulary while typing
    explorer-map.png         one model's map, a word hovered (highlighted in the lists too)
    explorer-analogy.png     man : king :: woman : ?
    explorer-odd.png         the odd one out of romeo juliet tybalt sword
    explorer-unknown.png     a misspelt word: suggestions as links, and a subword model's answer
    explorer-phone.png       the search results at a phone's width

    python docs/make_screenshots.py [MODEL_DIR ...] [--out docs/]

The files it writes are its own (explorer-*.png); nothing else in --out is touched.
"""
import argparse
import signal
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


def start_server(model_dirs):
    proc = subprocess.Popen([sys.executable, "-m", "wordstack", "serve", *model_dirs, "--port", "0"],
                            stdout=subprocess.PIPE, text=True, cwd=HERE.parent)
    deadline = time.monotonic() + 900   # the first run may train the default model
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        if line.startswith("Serving"):
            return proc, line.split(" at ", 1)[1].split()[0]
    proc.kill()
    raise SystemExit("the server did not start; run `wordstack demo` first")


def browser(width, height, mobile=False):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars",
                "--force-device-scale-factor=1", f"--window-size={width},{height}", "--lang=en-GB"):
        options.add_argument(arg)
    if mobile:
        options.add_experimental_option("mobileEmulation", {
            "deviceMetrics": {"width": width, "height": height, "pixelRatio": 2}, "userAgent": "Mozilla/5.0 (Linux; Android 14) Mobile"})
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


def wait_for(driver, css, timeout=30):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(EC.visibility_of_element_located((By.CSS_SELECTOR, css)))


def full_page(driver, path):
    """The whole page, however tall (Chromium's own full-page capture)."""
    import base64

    size = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
    shot = driver.execute_cdp_cmd("Page.captureScreenshot", {
        "format": "png", "captureBeyondViewport": True,
        "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}})
    Path(path).write_bytes(base64.b64decode(shot["data"]))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model_dirs", nargs="*")
    ap.add_argument("--out", default=str(HERE))
    args = ap.parse_args()
    out = Path(args.out)

    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    proc, url = start_server(args.model_dirs)
    shots = []
    try:
        driver = browser(1280, 900)
        try:
            driver.get(url + "?q=romeo")
            wait_for(driver, "figure.map svg")
            full_page(driver, out / "explorer-search.png")
            shots.append("explorer-search.png")

            driver.set_window_size(1280, 1400)     # tall enough that nothing scrolls under the mouse
            driver.get(url + "?q=romeo")
            wait_for(driver, "figure.map svg")
            time.sleep(0.3)
            column = driver.find_elements(By.CSS_SELECTOR, "article.model")[1]
            word = column.find_elements(By.CSS_SELECTOR, "ol.scores a.word")[1]
            ActionChains(driver).move_to_element(word).perform()
            time.sleep(0.3)
            column.screenshot(str(out / "explorer-map.png"))
            shots.append("explorer-map.png")

            driver.set_window_size(1280, 900)
            driver.get(url)
            box = wait_for(driver, "#q")
            box.send_keys("ro")
            wait_for(driver, "#q-options .option")
            box.send_keys("\ue015")   # arrow down: the first completion active
            time.sleep(0.3)
            driver.save_screenshot(str(out / "explorer-completion.png"))
            shots.append("explorer-completion.png")

            driver.get(url + "?view=analogy&a=man&b=king&c=woman")
            wait_for(driver, "#analogy-results article.model ol.scores")
            full_page(driver, out / "explorer-analogy.png")
            shots.append("explorer-analogy.png")

            driver.get(url + "?view=odd&w=romeo&w=juliet&w=tybalt&w=sword")
            wait_for(driver, "#odd-results article.model .odd")
            full_page(driver, out / "explorer-odd.png")
            shots.append("explorer-odd.png")

            driver.set_window_size(1280, 700)
            driver.get(url + "?q=romeoo")
            # no model knows it: an error with suggestions, or (a subword model served) per-model
            # suggestions beside the subword model's answer
            wait_for(driver, "#error .suggestion, article.model p.unknown .suggestion")
            time.sleep(0.3)
            driver.save_screenshot(str(out / "explorer-unknown.png"))
            shots.append("explorer-unknown.png")
        finally:
            driver.quit()

        phone = browser(390, 844, mobile=True)
        try:
            phone.get(url + "?q=romeo")
            wait_for(phone, "figure.map svg")
            time.sleep(0.5)
            phone.save_screenshot(str(out / "explorer-phone.png"))
            shots.append("explorer-phone.png")
        finally:
            phone.quit()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    print("wrote " + ", ".join(str(out / s) for s in shots))


if __name__ == "__main__":
    main()
