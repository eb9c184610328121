/** Entry point VS Code calls for extension tests (extensionTestsPath): runs the mocha suite in the extension host. */
import Mocha from 'mocha';
import { writeFileSync } from 'node:fs';

export function run(): Promise<void> {
  const mocha = new Mocha({ ui: 'bdd', color: false, timeout: 60_000 });
  mocha.suite.emit('pre-require', globalThis, 'suite', mocha);
  // Loaded after pre-require so that describe/it exist; esbuild bundles these requires.
  require('./suite/extension.test');
  require('./suite/robustness.test');
  require('./suite/download.test');
  return new Promise((resolve, reject) => {
    const runner = mocha.run((failures) => {
      // code-server does not always hand the exit code back to the browser: leave it in a file too.
      const out = process.env.ATTENTION_LENS_TEST_RESULT;
      if (out)
        writeFileSync(
          out,
          JSON.stringify({ passes: runner.stats?.passes ?? 0, failures, tests: runner.stats?.tests ?? 0 }),
        );
      if (failures) reject(new Error(`${failures} tests failed`));
      else resolve();
    });
  });
}
