const D = require('better-sqlite3'); const fs = require('fs'); const cp = require('child_process');
const dir = '/tmp/sst/ro2'; try { cp.execSync(`chattr -R -i ${dir} 2>/dev/null`) } catch {} ; fs.rmSync(dir, {recursive: true, force: true}); fs.mkdirSync(dir);
const d = new D(dir + '/x.db'); d.pragma('locking_mode=EXCLUSIVE'); d.pragma('journal_mode=WAL'); d.exec('create table t(a)'); for (let i=0;i<10;i++) d.prepare('insert into t values (?)').run(i); d.pragma('journal_mode=DELETE'); d.close();
console.log(fs.readdirSync(dir));
cp.execSync(`chattr +i ${dir}/x.db ${dir}`);
try { const r = new D(dir + '/x.db', { readonly: true, fileMustExist: true }); console.log('ro', r.prepare('select count(*) c from t').get(), r.pragma('journal_mode', {simple:true})); r.close(); } catch (e) { console.log('ro ERR', e.code, e.message); }
try { const r = new D(dir + '/x.db'); console.log('rw readonly?', r.readonly); r.pragma('locking_mode=EXCLUSIVE'); console.log(r.prepare('select count(*) c from t').get()); r.pragma('journal_mode=WAL'); console.log('wal ok?', r.pragma('journal_mode', {simple: true})); r.exec('begin immediate; commit'); r.close(); } catch (e) { console.log('rw ERR', e.code, e.message); }
cp.execSync(`chattr -R -i ${dir}`);
