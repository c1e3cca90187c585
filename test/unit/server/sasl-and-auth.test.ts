import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ACL, Id, Ids } from '../../../src/proto';
import { checkAcl, fixupAcl, generateDigest, ipScheme } from '../../../src/server/tree/acl-check';
import { loadJaasUsers } from '../../../src/server/session/jaas-config';
import { DigestMd5Server, digestResponse, parseDirectives } from '../../../src/server/session/sasl-digest-md5';

describe('digest and ip auth', () => {
  it('computes Apache digests', () => {
    // zkCli's documented example: super:admin -> super:xQJmxLMiHGwaqBvst5y6rkB6HQs=
    expect(generateDigest('super:admin')).toBe('super:xQJmxLMiHGwaqBvst5y6rkB6HQs=');
  });

  it('matches ip ACLs with CIDR masks', () => {
    expect(ipScheme.matches('10.1.2.3', '10.0.0.0/8')).toBe(true);
    expect(ipScheme.matches('11.1.2.3', '10.0.0.0/8')).toBe(false);
    expect(ipScheme.matches('127.0.0.1', '127.0.0.1')).toBe(true);
    expect(ipScheme.isValid('1.2.3.4/33')).toBe(false);
  });

  it('checks ACLs: world, digest, super, NoAuth', () => {
    const acl = [new ACL({ perms: 1, id: Ids.ANYONE_ID_UNSAFE }), new ACL({ perms: 31, id: new Id({ scheme: 'digest', id: generateDigest('u:p') }) })];
    expect(() => checkAcl(acl, 1, [])).not.toThrow();
    expect(() => checkAcl(acl, 2, [])).toThrow('NOAUTH');
    expect(() => checkAcl(acl, 2, [new Id({ scheme: 'digest', id: generateDigest('u:p') })])).not.toThrow();
    expect(() => checkAcl(acl, 2, [new Id({ scheme: 'super', id: '' })])).not.toThrow();
  });

  it('expands auth ACLs to authenticated ids only', () => {
    expect(() => fixupAcl('/x', [new Id({ scheme: 'ip', id: '127.0.0.1' })], Ids.CREATOR_ALL_ACL)).toThrow('INVALIDACL');
    const out = fixupAcl('/x', [new Id({ scheme: 'ip', id: '127.0.0.1' }), new Id({ scheme: 'digest', id: 'u:h' })], Ids.CREATOR_ALL_ACL);
    expect(out.map((a) => `${a.id.scheme}:${a.id.id}`)).toEqual(['digest:u:h']);
  });
});

describe('SASL DIGEST-MD5 server', () => {
  const users = new Map([['bob', 'secret']]);

  function clientResponse(challenge: string, password: string): string {
    const d = parseDirectives(challenge);
    const nonce = d.get('nonce')!;
    const common = { username: 'bob', realm: 'zk-sasl-md5', password, nonce, cnonce: 'abcdef', nc: '00000001', qop: 'auth', digestUri: 'zookeeper/zk-sasl-md5', utf8: true };
    const response = digestResponse({ ...common, forServer: false });
    return `charset=utf-8,username="bob",realm="zk-sasl-md5",nonce="${nonce}",nc=00000001,cnonce="abcdef",digest-uri="zookeeper/zk-sasl-md5",maxbuf=65536,response=${response},qop=auth`;
  }

  it('authenticates a user from the JAAS users and answers rspauth', () => {
    const s = new DigestMd5Server(users);
    const challenge = s.evaluateResponse(Buffer.alloc(0)).toString();
    expect(challenge).toMatch(/^realm="zk-sasl-md5",nonce="[^"]+",charset=utf-8,algorithm=md5-sess$/);
    const final = s.evaluateResponse(Buffer.from(clientResponse(challenge, 'secret'))).toString();
    expect(final).toMatch(/^rspauth=[0-9a-f]{32}$/);
    expect(s.isComplete).toBe(true);
    expect(s.authorizationId).toBe('bob');
  });

  it('rejects a wrong password', () => {
    const s = new DigestMd5Server(users);
    const challenge = s.evaluateResponse(Buffer.alloc(0)).toString();
    expect(() => s.evaluateResponse(Buffer.from(clientResponse(challenge, 'wrong')))).toThrow('bad password');
  });

  it('reads users from a JAAS Server section', () => {
    const f = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'jaas-')), 'jaas.conf');
    fs.writeFileSync(f, 'Server {\n  org.apache.zookeeper.server.auth.DigestLoginModule required\n  user_bob="secret"\n  user_super="adminsecret";\n};\nClient { x required username="bob" password="secret"; };\n');
    expect(loadJaasUsers(f)).toEqual(new Map([['bob', 'secret'], ['super', 'adminsecret']]));
  });
});
