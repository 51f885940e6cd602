// PostGraphile v5 settings for bench/run.sh, which copies this file next to its node_modules
// (bench/.work/node/) so that the import below resolves. The amber preset, except that amber
// offers `condition:` only on indexed columns: emails.is_primary has no index, and the benchmark
// asks for secondary e-mails only, as usergraph's `emails` does. Disabling the index behaviours
// (v5's replacement for v4's `--no-ignore-indexes`) allows that condition.
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";

export default {
  extends: [PostGraphileAmberPreset],
  disablePlugins: ["PgIndexBehaviorsPlugin"],
};
