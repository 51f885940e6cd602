// The GraphiQL page of a running usergraph in a real browser (Debian's chromium, headless, driven
// by puppeteer-core): it renders; every request it makes goes to the server itself; a token typed
// into the header editor and a query typed into the query editor are answered in the result pane;
// a subscription started there receives the event a REST call causes; nothing logs an error or a
// Content-Security-Policy violation. Leaves a screenshot at $SCREENSHOT.
// Env: USERGRAPH_URL, USERGRAPH_TOKEN (root's), SCREENSHOT, CHROMIUM (default /usr/bin/chromium).
import puppeteer from 'puppeteer-core';

const base = process.env.USERGRAPH_URL;
const token = process.env.USERGRAPH_TOKEN;
const origin = new URL(base).origin;
const failures = [];
const check = (ok, what) => {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) failures.push(what);
};

const browser = await puppeteer.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  // As on a machine with no internet access: no name resolves but the server's address.
  args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu', '--no-first-run',
    '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1'],
});
try {
  const page = await browser.newPage();
  await page.setViewport({ width: 1400, height: 900 });
  const requested = [];
  const problems = [];
  page.on('request', (r) => requested.push(r.url()));
  page.on('pageerror', (e) => problems.push(`script error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' || /Content Security Policy|Refused to/.test(m.text())) {
      problems.push(`console ${m.type()}: ${m.text()}`);
    }
  });
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} (${r.failure()?.errorText})`));
  const cdp = await page.createCDPSession();
  await cdp.send('Network.enable');
  cdp.on('Network.webSocketCreated', (e) => requested.push(e.url));

  // 1. The page renders, with its policy.
  const res = await page.goto(`${base}/graphql`, { waitUntil: 'networkidle0' });
  check(res.status() === 200, `GET /graphql answers 200 (${res.status()})`);
  check(/default-src 'none'/.test(res.headers()['content-security-policy'] || ''), 'the page has its Content-Security-Policy');
  await page.waitForSelector('.graphiql-container .graphiql-query-editor .CodeMirror', { timeout: 20000 });
  check(true, 'GraphiQL rendered');

  const editorValue = (sel) => page.$eval(sel, (el) => el.CodeMirror.getValue());
  // Replaces an editor's text by typing, as a person would (CodeMirror closes brackets and quotes
  // itself; typing the closing one steps over it).
  const typeInto = async (sel, text) => {
    await page.$eval(sel, (el) => el.CodeMirror.focus());
    await page.keyboard.down('Control');
    await page.keyboard.press('KeyA');
    await page.keyboard.up('Control');
    await page.keyboard.press('Backspace');
    await page.keyboard.type(text, { delay: 5 });
    await page.keyboard.press('Escape'); // closes an autocompletion list, if one is open
    // GraphiQL reads the document a moment after the last keystroke, as a person's pause would let it.
    await new Promise((r) => setTimeout(r, 600));
    return editorValue(sel);
  };
  const visibleHeaders = await page.$$eval('.graphiql-editor-tool .graphiql-editor', (els) =>
    els.filter((e) => e.offsetParent !== null).map((e) => e.querySelector('.CodeMirror').CodeMirror.getValue()),
  );
  check(visibleHeaders.some((v) => v.includes('PRIVATE-TOKEN')), `the header editor shows how to send a token (${JSON.stringify(visibleHeaders)})`);
  const queryText = await editorValue('.graphiql-query-editor .CodeMirror');
  check(/Authorization": "Bearer/.test(queryText) && /PRIVATE-TOKEN/.test(queryText), 'the default query explains both ways to send a token');

  // 2. A token in the header editor, a query in the query editor, run: answered in the result pane.
  const headersEditor = await page.evaluateHandle(() =>
    [...document.querySelectorAll('.graphiql-editor-tool .graphiql-editor .CodeMirror')].find((e) => e.CodeMirror.getValue().includes('PRIVATE-TOKEN')),
  );
  await headersEditor.evaluate((el) => el.setAttribute('data-test', 'headers'));
  const headerText = `{"PRIVATE-TOKEN": "${token}"}`;
  const typedHeaders = await typeInto('[data-test=headers]', headerText);
  check(typedHeaders === headerText, `headers typed (${typedHeaders})`);
  const query = '{ currentUser { username isAdmin } }';
  const typedQuery = await typeInto('.graphiql-query-editor .CodeMirror', query);
  check(typedQuery === query, `query typed (${typedQuery})`);
  await page.click('.graphiql-execute-button');
  await page.waitForFunction(
    () => (document.querySelector('.graphiql-response .CodeMirror')?.CodeMirror.getValue() || '').includes('currentUser'),
    { timeout: 15000 },
  );
  const answer = JSON.parse(await editorValue('.graphiql-response .CodeMirror'));
  check(answer?.data?.currentUser?.username === 'root' && answer.data.currentUser.isAdmin === true,
    `the query is answered in the result pane (${JSON.stringify(answer)})`);

  // 3. A subscription run in the page receives the event of a REST call.
  const sub = 'subscription { userChanged(id: "1") { action user { bio } } }';
  const typedSub = await typeInto('.graphiql-query-editor .CodeMirror', sub);
  check(typedSub === sub, `subscription typed (${typedSub})`);
  await page.click('.graphiql-execute-button');
  // The subscription is live once its WebSocket is open and subscribed; send changes until one
  // arrives (the first may come before the server has the subscription).
  const bio = `changed from REST at ${Date.now()}`;
  let seen = '';
  for (let i = 0; i < 40 && !seen.includes(bio); i++) {
    await new Promise((r) => setTimeout(r, 250));
    if (i % 4 === 0) {
      const put = await fetch(`${base}/api/v4/users/1`, {
        method: 'PUT',
        headers: { 'PRIVATE-TOKEN': token, 'Content-Type': 'application/json' },
        body: JSON.stringify({ bio }),
      });
      if (put.status !== 200) throw new Error(`PUT /api/v4/users/1: ${put.status}`);
    }
    seen = await editorValue('.graphiql-response .CodeMirror');
  }
  check(seen.includes(bio) && seen.includes('UPDATED'), `the subscription received the REST change (${seen.slice(0, 200)})`);
  await new Promise((r) => setTimeout(r, 300));
  if (process.env.SCREENSHOT) {
    await page.screenshot({ path: process.env.SCREENSHOT, fullPage: false });
    console.log(`screenshot: ${process.env.SCREENSHOT}`);
  }

  // 4. Nothing from another host; no script error, no policy violation.
  const foreign = requested.filter((u) => !u.startsWith('data:') && new URL(u).host !== new URL(origin).host);
  check(foreign.length === 0, `every request goes to the server itself (${requested.length} requests; foreign: ${JSON.stringify(foreign)})`);
  check(requested.some((u) => u.startsWith('ws://') && u.endsWith('/graphql/ws')), 'the subscription went over the server\'s WebSocket');
  check(problems.length === 0, `no script errors or policy violations ${JSON.stringify(problems)}`);
} finally {
  await browser.close();
}
if (failures.length) {
  console.error(`${failures.length} check(s) failed`);
  process.exit(1);
}
