-- wrk script: POST /check for pseudo-random users, resources and levels of the standard dataset.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer cohort_benchmark_admin_token_0123456789"
local levels = { "view", "use", "edit" }
local n = 0
request = function()
  n = n + 1
  local u = (n * 7919) % 100000
  local r = (n * 104729) % 1000
  local body = string.format('{"userId":"usr_%012d","resourceId":"res_%012d","level":"%s"}', u, r, levels[n % 3 + 1])
  return wrk.format(nil, nil, nil, body)
end
