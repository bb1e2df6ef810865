import { describe, expect, it } from 'vitest';
import { parseLightgbmModel } from './model.js';

// LightGBM's text grammar (gbdt_model_text.cpp, tree.cpp), written out by hand: what parses,
// and the one-line error each broken rule gives.
const tree = (fields: Record<string, string>) =>
  `${Object.entries(fields)
    .map(([k, v]) => `${k}=${v}`)
    .join('\n')}\n\n\n`;

const TWO_SPLITS = {
  num_leaves: '3',
  num_cat: '0',
  split_feature: '0 1',
  threshold: '0.5 -1',
  decision_type: '2 8',
  left_child: '1 -2',
  right_child: '-1 -3',
  leaf_value: '0.1 -0.2 0.3',
  shrinkage: '0.1',
};

function model(trees: string[], header: Record<string, string> = {}, sizes = true): string {
  const blocks = trees.map((t, i) => `Tree=${i}\n${t}`);
  const head: Record<string, string> = {
    version: 'v4',
    num_class: '1',
    num_tree_per_iteration: '1',
    label_index: '0',
    max_feature_idx: '1',
    objective: 'binary sigmoid:1',
    feature_names: 'a b',
    feature_infos: '[0:1] [0:1]',
    ...(sizes && { tree_sizes: blocks.map((b) => new TextEncoder().encode(b).length).join(' ') }),
    ...header,
  };
  const lines = Object.entries(head).map(([k, v]) => `${k}=${v}`);
  return `tree\n${lines.join('\n')}\n\n${blocks.join('')}end of trees\n\nparameters:\n[boosting: gbdt]\nend of parameters\n`;
}

const parse = (text: string) => parseLightgbmModel(text, 'm.txt');
const error = (text: string) => {
  try {
    parse(text);
  } catch (e) {
    return `${(e as { code: string }).code}: ${(e as Error).message}`;
  }
  return 'parsed';
};

describe('parseLightgbmModel', () => {
  it('reads the header, the objective and the trees', () => {
    const m = parse(model([tree(TWO_SPLITS), tree({ num_leaves: '1', num_cat: '0', leaf_value: '0.5' })]));
    expect(m).toMatchObject({
      version: 'v4',
      numClass: 1,
      treesPerIteration: 1,
      features: 2,
      averageOutput: false,
    });
    expect(m.objective).toMatchObject({ name: 'binary', params: { sigmoid: '1' } });
    expect(m.featureNames).toEqual(['a', 'b']);
    expect(m.trees[0]).toMatchObject({
      numLeaves: 3,
      splitFeature: [0, 1],
      leftChild: [1, -2],
      decisionType: [2, 8],
    });
    expect(m.trees[1]).toMatchObject({ numLeaves: 1, leafValue: [0.5], splitFeature: [] });
  });

  it('reads CRLF files, files without tree_sizes, and average_output', () => {
    const text = model([tree(TWO_SPLITS)], {}, false).replace(
      'feature_names',
      'average_output\nfeature_names',
    );
    expect(parse(text).averageOutput).toBe(true);
    expect(parse(text.replaceAll('\n', '\r\n')).trees).toHaveLength(1);
  });

  it.each([
    [
      'a first line other than "tree"',
      (t: string) => t.replace('tree\n', 'gbdt\n'),
      'line 1: is "gbdt", expected "tree"',
    ],
    ['no num_class', (t: string) => t.replace('num_class=1\n', ''), 'num_class: missing from the header'],
    [
      'feature_names of the wrong length',
      (t: string) => t.replace('feature_names=a b', 'feature_names=a'),
      'feature_names: has 1 names for max_feature_idx 1',
    ],
    [
      'two = in an ordinary line',
      (t: string) => t.replace('version=v4', 'version=v4=x'),
      "has more than one '='",
    ],
    [
      'tree_sizes that disagree with the blocks',
      (t: string) => t.replace(/tree_sizes=\d+/, 'tree_sizes=7'),
      'tree_sizes[0]: is 7, but Tree=0 takes',
    ],
    ['a tree out of order', (t: string) => t.replace('Tree=0', 'Tree=1'), 'Tree=1 where Tree=0 was due'],
    [
      'a missing "end of trees"',
      (t: string) => t.replace('end of trees', 'end'),
      'where a Tree= block or "end of trees" was due',
    ],
  ])('refuses %s', (_, edit, message) => {
    const text = edit(model([tree(TWO_SPLITS)]));
    expect(error(text)).toMatch(/^FERRY_LIGHTGBM_MODEL: m\.txt: LightGBM model /);
    expect(error(text)).toContain(message);
  });

  it.each([
    ['a list of the wrong length', { leaf_value: '0.1 0.2' }, 'Tree=0 leaf_value: has 2 values, expected 3'],
    [
      'a split on a feature past max_feature_idx',
      { split_feature: '0 2' },
      'Tree=0 split_feature[1]: 2 is outside [0, 1]',
    ],
    [
      'a child pointing back up',
      { left_child: '0 -2' },
      'Tree=0 node 0: child 0 does not come after its parent',
    ],
    ['a leaf with two parents', { right_child: '-1 -1' }, 'Tree=0 leaf 0: has two parents'],
    ['a child out of range', { left_child: '9 -2' }, 'Tree=0 left_child[0]: 9 is outside [-3, 1]'],
    [
      'missing type 3',
      { decision_type: '12 2' },
      'Tree=0 decision_type[0]: missing type 3 is not None, Zero or NaN',
    ],
    [
      'a categorical split without its bitset',
      { decision_type: '1 2' },
      'Tree=0 threshold[0]: categorical split 0.5 is not one of the 0 bitsets',
    ],
    [
      'a threshold that is not a number',
      { threshold: '0.5 abc' },
      'Tree=0 threshold[1]: "abc" is not a number',
    ],
    [
      'an infinite leaf value',
      { leaf_value: '0.1 inf 0.3' },
      'Tree=0 leaf_value[1]: "inf" is not a finite number',
    ],
    ['a missing field', { right_child: undefined }, 'Tree=0 right_child: missing'],
  ])('refuses a tree with %s', (_, change, message) => {
    const fields = Object.fromEntries(
      Object.entries({ ...TWO_SPLITS, ...change }).filter((e): e is [string, string] => e[1] !== undefined),
    );
    expect(error(model([tree(fields)]))).toBe(`FERRY_LIGHTGBM_MODEL: m.txt: LightGBM model ${message}`);
  });

  it('checks categorical bitsets and whole iterations', () => {
    const cat = {
      ...TWO_SPLITS,
      num_cat: '1',
      decision_type: '1 2',
      threshold: '0 -1',
      cat_boundaries: '0 2',
      cat_threshold: '5',
    };
    expect(error(model([tree(cat)]))).toContain('Tree=0 cat_threshold: has 1 values, expected 2');
    expect(error(model([tree({ ...cat, cat_threshold: '5 1' })]))).toBe('parsed');
    expect(error(model([tree(TWO_SPLITS)], { num_class: '2', num_tree_per_iteration: '2' }))).toContain(
      'trees: 1 trees are not whole iterations of 2',
    );
  });

  it('names the limit a hostile count breaks', () => {
    expect(error(model([tree({ ...TWO_SPLITS, num_leaves: '200000' })]))).toContain(
      'Tree=0 num_leaves[0]: 200000 is outside [1, 131072]',
    );
    expect(error(model([tree(TWO_SPLITS)], { max_feature_idx: '99999999' }))).toMatch(
      /^FERRY_LIMIT: .*max_feature_idx is 99999999, over the limit of 16777215/,
    );
    const long = {
      ...TWO_SPLITS,
      ...Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`extra${i}`, '0'])),
    };
    expect(error(model([tree(long)]))).toContain('more than 22 lines (MAX_LIGHTGBM_TREE_LINES)');
  });
});
