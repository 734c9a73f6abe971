// Every code block in README.md that is marked `<!-- exercised: path -->`
// must be exactly the code the test suites run (the whole file, or the part
// between `README:begin` and `README:end` comments), so the README cannot
// drift from what is tested.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const readme = readFileSync(`${root}README.md`, 'utf8');
const marked = [...readme.matchAll(/<!-- exercised: (\S+) -->\n```\w*\n([\s\S]*?)```/g)];

function exercisedPart(path: string): string {
  const source = readFileSync(`${root}${path}`, 'utf8');
  const region = /(?:\/\/|#) README:begin\n([\s\S]*?)[ \t]*(?:\/\/|#) README:end/.exec(source);
  return region ? region[1]! : source;
}

describe('README.md', () => {
  it('marks the examples it shows', () => {
    expect(marked.length).toBeGreaterThanOrEqual(3);
  });

  it.each(marked.map((m) => [m[1]!, m[2]!] as const))('shows %s exactly as tested', (path, block) => {
    expect(block).toBe(exercisedPart(path));
  });
});
