/** Process entry for `maverick`: run the CLI, then exit with its code (one-shot commands leave no handle open by design, but a stray timer must not keep a finished command alive). */
import { main } from './main.js';

const code = await main(process.argv.slice(2));
process.exit(code);
