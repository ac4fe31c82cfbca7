// Issue 13.5: static local imports of JavaScript and Python modules (nothing executed).
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { moduleImports } from '../../src/dag/module-imports.js';
import { ModuleHasher } from '../../src/dag/source-hash.js';

const bundle = mkdtempSync(join(tmpdir(), 'mf-imports-'));
function write(rel: string, text: string): string {
  const file = join(bundle, rel);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
  return file;
}

test('JavaScript: static import, export-from and require of relative paths; packages ignored; dynamic listed', () => {
  write('b.js', '');
  write('c/index.js', '');
  write('d.cjs', '');
  const file = write(
    'a.js',
    `import x from './b.js';\nexport * from "./c";\nconst d = require('./d.cjs');\nimport fs from 'node:fs';\n` +
      `import lodash from 'lodash';\nconst m = import(name);\nconst up = require('../../etc/passwd.js');\n`,
  );
  const r = moduleImports(file, readFileSync(file, 'utf8'), bundle);
  expect(r.files.map((f) => f.slice(bundle.length + 1)).sort()).toEqual(['b.js', 'c/index.js', 'd.cjs']);
  expect(r.notFollowed).toEqual(["'../../etc/passwd.js' (outside the bundle)", 'import(name) (dynamic)']);
});

test('Python: import, from-import, relative imports inside the bundle; stdlib ignored; importlib listed', () => {
  write('pkg/__init__.py', '');
  write('pkg/mod.py', '');
  write('pkg/sub.py', 'from . import mod\nfrom .mod import f\n');
  write('util.py', '');
  const file = write(
    'main.py',
    'import os, util\nfrom pkg import sub\nimport importlib\nm = importlib.import_module(n)\n',
  );
  const closure = new ModuleHasher().closure(file, bundle);
  expect(Object.keys(closure.files).sort()).toEqual([
    'main.py',
    'pkg/__init__.py',
    'pkg/mod.py',
    'pkg/sub.py',
    'util.py',
  ]);
  expect(closure.notFollowed).toEqual(['main.py: importlib.import_module(...) (dynamic)']);
});

test('a cycle ends with each file once', () => {
  const a = write('cyc/a.js', "import './b.js';\n");
  write('cyc/b.js', "import './a.js';\n");
  const closure = new ModuleHasher().closure(a, bundle);
  expect(Object.keys(closure.files).sort()).toEqual(['cyc/a.js', 'cyc/b.js']);
});
