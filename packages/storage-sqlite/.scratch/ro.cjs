const D = require('better-sqlite3'); const fs = require('fs'); const cp = require('child_process');
const dir = '/tmp/sst/ro'; try { cp.execSync(`chattr -R -i ${dir}`) } catch {} ; fs.rmSync(dir, {recursive: true, force: true}); fs.mkdirSync(dir);
const mode = process.argv[2];
if (mode === 'crash') {
  cp.execSync(`node -e "const D=require('better-sqlite3'); const d=new D('${dir}/x.db'); d.pragma('locking_mode=EXCLUSIVE'); d.pragma('journal_mode=WAL'); d.exec('create table t(a)'); for (let i=0;i<10;i++) d.prepare('insert into t values (?)').run(i); process.kill(process.pid,'SIGKILL')" || true`, {cwd: __dirname});
} else {
  const d = new D(dir + '/x.db'); d.pragma('locking_mode=EXCLUSIVE'); d.pragma('journal_mode=WAL'); d.exec('create table t(a)'); for (let i=0;i<10;i++) d.prepare('insert into t values (?)').run(i); d.close();
}
console.log(fs.readdirSync(dir));
cp.execSync(`chattr +i ${dir}/* ${dir}`);
for (const lm of ['NORMAL', 'EXCLUSIVE']) {
  try { const r = new D(dir + '/x.db', { readonly: true, fileMustExist: true }); r.pragma('locking_mode=' + lm); console.log(lm, r.prepare('select count(*) c from t').get(), r.pragma('journal_mode', {simple:true})); r.close(); }
  catch (e) { console.log(lm, 'ERR', e.code, e.message); }
}
console.log(fs.readdirSync(dir));
cp.execSync(`chattr -R -i ${dir}`);
