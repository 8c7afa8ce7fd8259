/**
 * The command-line entry every benchmark shares: when the module is the script node was given,
 * run `main` with the arguments and exit with its code; an error is one line on stderr (its stack
 * with `stack`) and exit `failCode`.
 */
export function runIfMain(
  moduleUrl: string,
  main: (argv: string[]) => Promise<number>,
  o: { failCode?: number; stack?: boolean } = {},
): void {
  if (moduleUrl !== `file://${process.argv[1]}`) return;
  main(process.argv.slice(2)).then(
    (c) => process.exit(c),
    (e: unknown) => {
      process.stderr.write(`${e instanceof Error ? (o.stack === true ? (e.stack ?? e.message) : e.message) : String(e)}\n`);
      process.exit(o.failCode ?? 1);
    },
  );
}
