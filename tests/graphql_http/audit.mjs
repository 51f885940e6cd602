// Runs graphql-http's serverAudits (the audit suite of the GraphQL-over-HTTP specification)
// against the server at $GRAPHQL_URL and fails unless every audit passes.
import { serverAudits } from 'graphql-http';

const url = process.env.GRAPHQL_URL;
if (!url) throw new Error('GRAPHQL_URL is not set');
const results = [];
for (const audit of serverAudits({ url, fetchFn: fetch })) {
  results.push({ audit, result: await audit.fn() });
}
const counts = {};
let failed = 0;
for (const { audit, result } of results) {
  const level = audit.name.split(' ')[0];
  counts[level] ??= { ok: 0, all: 0 };
  counts[level].all += 1;
  if (result.status === 'ok') {
    counts[level].ok += 1;
  } else {
    failed += 1;
    console.log(`${result.status.toUpperCase()} ${audit.id} ${audit.name}\n    ${result.reason}`);
  }
}
const summary = Object.entries(counts).map(([l, c]) => `${l} ${c.ok}/${c.all}`).join(', ');
console.log(`graphql-http audits: ${results.length - failed}/${results.length} passed (${summary})`);
process.exit(failed === 0 ? 0 : 1);
