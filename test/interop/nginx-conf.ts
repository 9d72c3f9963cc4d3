// An nginx.conf for a test: one worker in the foreground, every file it writes (pid,
// logs, temp bodies) under `dir`, no body size limit; `http` is the http block's own lines.
export function nginxConf(dir: string, http: string[], workerConnections = 1024): string {
  return `daemon off;
master_process off;
worker_processes 1;
error_log ${dir}/error.log warn;
pid ${dir}/nginx.pid;
events { worker_connections ${workerConnections}; }
http {
  access_log ${dir}/access.log;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  client_max_body_size 0;
  ${http.join('\n  ')}
}
`;
}
