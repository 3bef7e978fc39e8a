-- POST a new lead on every request: "{n}" in WRK_BODY becomes a per-run counter,
-- so every request creates a distinct lead (no duplicate-lead answers).
local counter = 0
local template = os.getenv("WRK_BODY")
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

request = function()
  counter = counter + 1
  local body = string.gsub(template, "{n}", tostring(counter))
  return wrk.format(nil, nil, nil, body)
end
