import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readBotsFile } from '../src/index.ts';

const file = (text: string) => {
  const path = join(mkdtempSync(join(tmpdir(), 'hookway-bots-')), 'bots.txt');
  writeFileSync(path, text);
  return path;
};

describe('BOTS_FILE', () => {
  it('reads appid:secret per line or comma-separated, with # comments', () => {
    const bots = readBotsFile(
      file('# production\n102000001:DG5g3B4j9X2KOErG\n102000002:naOC0ocQE3shWLAfffVLB1rhYPG7, 102000003:123456abcdef # sandbox\n\n'),
    );
    expect([...bots]).toEqual([
      ['102000001', 'DG5g3B4j9X2KOErG'],
      ['102000002', 'naOC0ocQE3shWLAfffVLB1rhYPG7'],
      ['102000003', '123456abcdef'],
    ]);
  });

  it('names the line of a bad entry, without repeating the entry', () => {
    expect(() => readBotsFile(file('102000001:DG5g3B4j9X2KOErG\nnot-an-entry-with-SecretValue\n'))).toThrow(
      /line 2: expected appid:secret$/,
    );
  });
});
