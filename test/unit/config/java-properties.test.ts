import { ConfigError, parseJavaProperties, extractSystemPropertyFlags, splitShellWords, systemPropertiesFrom } from '../../../src/server/config';

describe('parseJavaProperties (java.util.Properties.load rules)', () => {
  it('reads key=value, key:value and key value forms', () => {
    const p = parseJavaProperties('a=1\nb:2\nc 3\nd\t=\t4\ne   :  5');
    expect([...p.entries()]).toEqual([
      ['a', '1'],
      ['b', '2'],
      ['c', '3'],
      ['d', '4'],
      ['e', '5'],
    ]);
  });

  it('skips # and ! comments and blank lines, also when indented', () => {
    const p = parseJavaProperties('# comment\n  ! other\n\n   \nk=v\n   # indented=comment');
    expect([...p.keys()]).toEqual(['k']);
  });

  it('keeps trailing whitespace in values and strips leading whitespace', () => {
    expect(parseJavaProperties('k =   v  ').get('k')).toBe('v  ');
  });

  it('joins backslash continuation lines and drops the next line’s indentation', () => {
    const p = parseJavaProperties('list=a,\\\n    b,\\\n\tc\nnext=1');
    expect(p.get('list')).toBe('a,b,c');
    expect(p.get('next')).toBe('1');
  });

  it('does not continue a line ending in an even number of backslashes', () => {
    const p = parseJavaProperties('path=C:\\\\\nnext=1');
    expect(p.get('path')).toBe('C:\\');
    expect(p.get('next')).toBe('1');
  });

  it('a comment line ending in a backslash does not swallow the next line', () => {
    const p = parseJavaProperties('# comment \\\nk=v');
    expect(p.get('k')).toBe('v');
  });

  it('understands escapes in keys and values', () => {
    const p = parseJavaProperties('my\\ key\\=x=tab\\there\\u0041\\z\nnl=a\\nb');
    expect(p.get('my key=x')).toBe('tab\thereAz');
    expect(p.get('nl')).toBe('a\nb');
  });

  it('rejects a malformed \\u escape with a typed error', () => {
    expect(() => parseJavaProperties('k=\\u12')).toThrow(ConfigError);
  });

  it('lets a later duplicate win and accepts CRLF and CR line ends', () => {
    const p = parseJavaProperties('k=1\r\nk=2\rj=3');
    expect(p.get('k')).toBe('2');
    expect(p.get('j')).toBe('3');
  });

  it('a key without a value maps to the empty string', () => {
    expect(parseJavaProperties('lonely').get('lonely')).toBe('');
    expect(parseJavaProperties('x=').get('x')).toBe('');
  });
});

describe('system properties from flags and environment', () => {
  it('extracts -D flags and leaves other arguments in order', () => {
    const { properties, rest } = extractSystemPropertyFlags(['-Da=1', 'start', '-Db', '-Dc=x=y', 'conf/zoo.cfg']);
    expect(properties).toEqual({ a: '1', b: '', c: 'x=y' });
    expect(rest).toEqual(['start', 'conf/zoo.cfg']);
  });

  it('splits JVMFLAGS like a shell, with quotes', () => {
    expect(splitShellWords(`-Xmx1g  -Da="two words" -Db='x y' -Dc=plain\\ esc`)).toEqual([
      '-Xmx1g',
      '-Da=two words',
      '-Db=x y',
      '-Dc=plain esc',
    ]);
    expect(() => splitShellWords('-Da="open')).toThrow(ConfigError);
  });

  it('layers SERVER_JVMFLAGS < JVMFLAGS < explicit flags, ignoring non -D words', () => {
    const env = {
      SERVER_JVMFLAGS: '-Xmx512m -Dzookeeper.snapCount=10 -Dreadonlymode.enabled=true',
      JVMFLAGS: '-Dzookeeper.snapCount=20 -Djute.maxbuffer=100',
    };
    const props = systemPropertiesFrom({ 'jute.maxbuffer': '200' }, env);
    expect(props).toEqual({ 'zookeeper.snapCount': '20', 'readonlymode.enabled': 'true', 'jute.maxbuffer': '200' });
  });

  it('is empty with no flags and no environment', () => {
    expect(systemPropertiesFrom({}, {})).toEqual({});
  });
});
