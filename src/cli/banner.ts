/** The "how to reach it" lines `npm start` prints under its banner (standalone and ensemble alike). */
export function howToConnect(connectString: string): string[] {
  return [
    'Reach it with the shell:',
    `  bin/zk-cli -server ${connectString}`,
    '',
    'or from code:',
    `  const { ZooKeeper } = require('zookeeper-ts');`,
    `  const zk = new ZooKeeper('${connectString}'); await zk.connected();`,
    `  await zk.create('/hello', Buffer.from('world')); console.log((await zk.getData('/hello')).data.toString());`,
  ];
}
