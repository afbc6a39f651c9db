# -*- coding: utf-8 -*-
# Copyright (c) oci_runtime.runc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Open a built documentation site in a real headless browser (Debian's chromium) and check it.

Every page reachable from the index through the site's own links is loaded, then every other
HTML file of the site; each must load, log no console error (read after the page settled, and
once more at the end), and every link of it into the site must name a page that exists and, with
a fragment, an element of that page with that id. Links out of the site are not followed (this
machine has no web access). With --search WORD, the site's search page must find WORD.
Screenshots of the pages named with --screenshot are kept.

    python check_site.py SITE [--screenshots FOLDER] [--screenshot PAGE ...] [--search WORD]

Exit status 0 when nothing is wrong; 1 with every problem listed.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import urllib.parse

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

CHROMIUM = '/usr/bin/chromium'
CHROMEDRIVER = '/usr/bin/chromedriver'
# How long a page may go on running its scripts before its console is read: errors thrown by
# timers and handlers right after the load count too.
SETTLE_SECONDS = 0.3
# The number of results Sphinx's search page shows, once its index is loaded and searched.
SEARCH_RESULTS = '''
return document.querySelectorAll('#search-results li, ul.search li').length;
'''
# The links, ids and console of a loaded page, read in the page itself.
PAGE_FACTS = '''
return {
  links: Array.from(document.querySelectorAll('a[href]'), a => a.href),
  ids: Array.from(document.querySelectorAll('[id]'), e => e.id)
    .concat(Array.from(document.querySelectorAll('a[name]'), e => e.name)),
  title: document.title,
};
'''


def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ('--headless=new', '--no-sandbox', '--disable-gpu', '--window-size=1280,1600',
                     '--disable-dev-shm-usage', '--allow-file-access-from-files'):
        options.add_argument(argument)
    options.set_capability('goog:loggingPrefs', {'browser': 'ALL'})
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


def split(url):
    """(path of a file:// url, its fragment)."""
    parsed = urllib.parse.urlsplit(url)
    return urllib.parse.unquote(parsed.path), urllib.parse.unquote(parsed.fragment)


def console_errors(driver, relative):
    return ['%s: console error: %s' % (relative, entry.get('message'))
            for entry in driver.get_log('browser') if entry.get('level') == 'SEVERE']


def all_pages(site):
    for folder, _dirs, files in os.walk(site):
        for name in sorted(files):
            if name.endswith('.html'):
                yield os.path.join(folder, name)


def check(site, screenshots=None, shot_pages=(), search=None):
    site = os.path.realpath(site)
    index = os.path.join(site, 'index.html')
    problems = []
    if not os.path.isfile(index):
        return ['%s: no index.html' % site], 0, 0
    driver = browser()
    pages, ids, links, unreached = [index], {}, [], None
    try:
        while pages:
            page = pages.pop()
            if page not in ids:
                problems += visit(driver, site, page, ids, links, pages, screenshots, shot_pages)
            if not pages and unreached is None:
                # The pages no link leads to (the search page, say) are the site's too.
                unreached = [path for path in all_pages(site) if path not in ids]
                pages = list(unreached)
        if search:
            problems += search_problems(driver, site, search)
        problems += console_errors(driver, 'the last page, later')
    finally:
        driver.quit()
    for relative, target, fragment in links:
        shown = os.path.relpath(target, site) + ('#' + fragment if fragment else '')
        if os.path.isdir(target):
            target = os.path.join(target, 'index.html')
        if not os.path.isfile(target):
            problems.append('%s: broken link to %s (no such page)' % (relative, shown))
        elif fragment and target in ids and fragment not in ids[target]:
            problems.append('%s: broken link to %s (no such anchor)' % (relative, shown))
    for wanted in shot_pages:
        if os.path.join(site, wanted) not in ids:
            problems.append('%s: the page to take a screenshot of was not reached' % wanted)
    return problems, len(ids), len(links)


def visit(driver, site, page, ids, links, pages, screenshots, shot_pages):
    """Load one page: its ids, its links into the site (queued), its console errors, its screenshot."""
    driver.get('file://' + urllib.parse.quote(page))
    time.sleep(SETTLE_SECONDS)
    facts = driver.execute_script(PAGE_FACTS)
    ids[page] = set(facts['ids'])
    relative = os.path.relpath(page, site)
    problems = console_errors(driver, relative)
    if relative in shot_pages and screenshots:
        os.makedirs(screenshots, exist_ok=True)
        if not driver.save_screenshot(os.path.join(screenshots, relative.replace(os.sep, '_') + '.png')):
            problems.append('%s: the screenshot could not be saved' % relative)
    for url in facts['links']:
        if not url.startswith('file://'):
            continue
        target, fragment = split(url)
        if not os.path.realpath(target).startswith(site + os.sep):
            problems.append('%s: links out of the site to %s' % (relative, target))
            continue
        links.append((relative, target, fragment))
        if os.path.isfile(target) and target.endswith('.html') and target not in ids:
            pages.append(target)
    return problems


def search_problems(driver, site, word):
    """The search page must find the word: its index and its scripts work."""
    page = os.path.join(site, 'search.html')
    if not os.path.isfile(page):
        return ['search.html: no search page']
    driver.get('file://%s?q=%s' % (urllib.parse.quote(page), urllib.parse.quote(word)))
    deadline = time.monotonic() + 10
    found = 0
    while time.monotonic() < deadline:
        found = driver.execute_script(SEARCH_RESULTS)
        if found:
            break
        time.sleep(0.2)
    problems = console_errors(driver, 'search.html?q=%s' % word)
    if not found:
        problems.append('search.html: searching %r found nothing in 10 s' % word)
    return problems


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n', maxsplit=1)[0])
    parser.add_argument('site')
    parser.add_argument('--screenshots')
    parser.add_argument('--screenshot', action='append', default=[])
    parser.add_argument('--search')
    args = parser.parse_args()
    problems, pages, links = check(args.site, args.screenshots, args.screenshot, args.search)
    for problem in problems:
        print('PROBLEM %s' % problem)
    print('site: %d pages loaded, %d links into the site checked, %d problems' % (pages, links, len(problems)))
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
