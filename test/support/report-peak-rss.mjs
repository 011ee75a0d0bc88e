// Loaded with `node --import` into a process under test: prints its peak resident set size (all
// threads) on stderr as it exits, as `peak-rss-kb <n>`.
process.on('exit', () => {
  process.stderr.write(`peak-rss-kb ${process.resourceUsage().maxRSS}\n`);
});
