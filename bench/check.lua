-- wrk script: POST /check for pseudo-random users and permissions of the standard dataset.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer cohort_benchmark_admin_token_0123456789"
local n = 0
request = function()
  n = n + 1
  local u = (n * 7919) % 100000
  local p = (n * 104729) % 1000
  local body = string.format('{"userId":"usr_%012d","permission":"app%d:action%d"}', u, math.floor(p / 10), p % 10)
  return wrk.format(nil, nil, nil, body)
end
