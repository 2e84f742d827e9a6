"""Loads pages in headless Chromium (Debian's, driven by Playwright) and checks each: expected text and elements,
no request leaving 127.0.0.1 (or file://), and axe-core's accessibility rules (no serious or critical violation).
Takes a screenshot of each page. Reads a JSON spec from argv[1], prints one JSON result line.

spec: {"chromium": PATH, "shots": DIR, "headers": {...},
       "pages": [{"url": U, "name": N, "texts": [...], "selectors": [...], "absent": [...], "status": 200}]}
result: {"pages": [{"name", "status", "failures": [...], "outside": [...], "violations": [[id, impact, count]]}]}
"""
import json
import os
import sys
from urllib.parse import urlparse

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import sync_playwright

spec = json.loads(sys.argv[1])
os.makedirs(spec["shots"], exist_ok=True)
results = []
with sync_playwright() as p:
    browser = p.chromium.launch(executable_path=spec["chromium"], args=["--no-sandbox", "--disable-gpu"])
    context = browser.new_context(extra_http_headers=spec.get("headers", {}), viewport={"width": 1280, "height": 900})
    axe = Axe()
    for page_spec in spec["pages"]:
        page = context.new_page()
        outside = []

        def watch(request, outside=outside):
            u = urlparse(request.url)
            if u.scheme == "file" or u.scheme == "data" or u.hostname == "127.0.0.1":
                return
            outside.append(request.url)

        page.on("request", watch)
        failures = []
        response = page.goto(page_spec["url"], wait_until="load")
        status = response.status if response else 0
        if status != page_spec.get("status", 200) and not page_spec["url"].startswith("file:"):
            failures.append(f"status {status}")
        body = page.inner_text("body")
        for text in page_spec.get("texts", []):
            if text not in body:
                failures.append(f"text missing: {text}")
        for text in page_spec.get("absent", []):
            if text in page.content():
                failures.append(f"text present: {text}")
        for sel in page_spec.get("selectors", []):
            if page.locator(sel).count() == 0:
                failures.append(f"element missing: {sel}")
        page.screenshot(path=os.path.join(spec["shots"], page_spec["name"] + ".png"), full_page=False)
        # Keyboard: the first Tab lands on the skip link.
        page.keyboard.press("Tab")
        focused = page.evaluate("document.activeElement && document.activeElement.className")
        if focused != "skip":
            failures.append(f"first Tab focused {focused!r}, not the skip link")
        report = axe.run(page)
        violations = [
            [v["id"], v["impact"], len(v["nodes"])] for v in report.response["violations"] if v["impact"] in ("serious", "critical")
        ]
        results.append({"name": page_spec["name"], "status": status, "failures": failures, "outside": outside, "violations": violations})
        page.close()
    browser.close()
print(json.dumps({"pages": results}))
