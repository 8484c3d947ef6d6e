import cliProgress from 'cli-progress';

/**
 * One progress bar per phase on stderr, only when stderr is a terminal and output is not JSON:
 * scripts and CI logs get clean output, people get feedback on minute-long work.
 */
export function phaseProgress(enabled: boolean): {
  update: (p: { phase: string; done: number; total: number; item?: string }) => void;
  stop: () => void;
} {
  if (!enabled || !process.stderr.isTTY) return { update: () => {}, stop: () => {} };
  let bar: cliProgress.SingleBar | null = null;
  let phase = '';
  const stop = () => {
    bar?.stop();
    bar = null;
  };
  return {
    update: ({ phase: p, done, total, item }) => {
      if (p !== phase) {
        stop();
        phase = p;
        bar = new cliProgress.SingleBar(
          {
            stream: process.stderr,
            format: `${p.padEnd(15)} [{bar}] {percentage}% | {value}/{total} {item}`,
            hideCursor: true,
            clearOnComplete: false,
          },
          cliProgress.Presets.shades_classic,
        );
        bar.start(Math.max(total, 1), done, { item: '' });
      }
      bar?.setTotal(Math.max(total, 1));
      bar?.update(done, { item: item ? item.slice(-48) : '' });
    },
    stop,
  };
}
