-- Value conversion between Lua and msgpack (in-process, no actors).
local tractor = require "tractor"
local H = require "helpers"

local enc, dec = tractor.encode, tractor.decode
local hex = function(s) return (s:gsub(".", function(c) return ("%02x"):format(c:byte()) end)) end

local T = {}
local function test(name, fn) T[#T + 1] = {name, fn, 20} end

test("integers stay integers at every width", function()
  for _, v in ipairs{0, 1, 127, 128, 255, 256, 65535, 65536, 1 << 31, 1 << 32, 1 << 53,
      math.maxinteger, -1, -32, -33, -128, -129, -32768, -32769, -(1 << 31), -(1 << 31) - 1,
      math.mininteger} do
    local d = dec(enc(v))
    H.eq(math.type(d), "integer", "type of " .. tostring(v))
    H.eq(d, v)
  end
  H.eq(hex(enc(1)), "01")
  H.eq(hex(enc(-1)), "ff")
  H.eq(hex(enc(200)), "ccc8")
  H.eq(hex(enc(-200)), "d1ff38")
  H.eq(hex(enc(math.maxinteger)), "cf7fffffffffffffff")
end)

test("floats stay floats (1.0 included)", function()
  for _, v in ipairs{1.0, 0.5, -2.25, 1e300, -0.0, math.huge, -math.huge} do
    local d = dec(enc(v))
    H.eq(math.type(d), "float")
    H.eq(d, v)
  end
  H.eq(hex(enc(1.0)), "cb3ff0000000000000")
  local nan = dec(enc(0 / 0))
  assert(nan ~= nan, "NaN round trips")
  -- float32 from other peers decodes as a float
  H.eq(dec("\xca\x3f\xc0\x00\x00"), 1.5)
  -- uint64 above 2^63-1 is the one lossy case: a float
  H.eq(math.type(dec("\xcf\xff\xff\xff\xff\xff\xff\xff\xff")), "float")
end)

test("strings: valid UTF-8 is str, anything else is bin", function()
  H.eq(hex(enc("hi")), "a26869")
  H.eq(hex(enc("é")), "a2c3a9")
  H.eq(hex(enc("\xff")), "c401ff")          -- invalid byte -> bin
  H.eq(hex(enc("\xc0\xaf")), "c402c0af")    -- overlong -> bin
  H.eq(hex(enc("\xed\xa0\x80")), "c403eda080") -- surrogate -> bin
  H.eq(hex(enc(tractor.bin("hi"))), "c4026869") -- forced bin
  local long = ("x"):rep(300)
  H.eq(hex(enc(long)):sub(1, 6), "da012c")
  -- both decode to Lua strings
  H.eq(dec("\xc4\x02hi"), "hi")
  H.eq(dec("\xa2hi"), "hi")
  H.eq(dec(enc("\0binary\0")), "\0binary\0")
end)

test("tables: 1..n arrays, everything else maps", function()
  H.eq(hex(enc({})), "90")
  H.eq(hex(enc({1, 2, 3})), "93010203")
  H.eq(hex(enc({a = 1})), "81a16101")
  H.eq(hex(enc({[2] = "x"})), "8102a178")          -- a hole: map
  H.eq(hex(enc(tractor.map({}))), "80")             -- forced map
  H.eq(hex(enc(tractor.map({1}))), "810101")
  local v = {1, "two", 3.0, {nested = {true, false}}, {}, {k = {1, {2, {3}}}}}
  assert(H.deep_eq(dec(enc(v)), v))
  -- an empty map stays a map when sent back
  local m = dec("\x80")
  H.eq(hex(enc(m)), "80")
  H.eq(dec("\xc0"), nil)
  H.eq(dec("\xc3"), true)
end)

test("unsendable values raise a clear error naming the path", function()
  local e = H.raises(enc, {a = {b = print}})
  assert(tostring(e):find("value.a.b", 1, true), e)
  assert(tostring(e):find("function cannot be sent", 1, true), e)
  e = H.raises(enc, {io.stdout})
  assert(tostring(e):find("[1]", 1, true) and tostring(e):find("userdata"), e)
  e = H.raises(enc, coroutine.create(print))
  assert(tostring(e):find("thread"), e)
  local t = {x = {}}
  t.x.back = t
  e = H.raises(enc, t)
  assert(tostring(e):find("cycle"), e)
  -- a shared (acyclic) subtable is fine
  local shared = {1}
  H.eq(#dec(enc({shared, shared})), 2)
  local deep = {}
  local cur = deep
  for _ = 1, 150 do cur.n = {}; cur = cur.n end
  e = H.raises(enc, deep)
  assert(tostring(e):find("nested deeper"), e)
  -- a table with a metatable is still encoded by its raw contents
  H.eq(hex(enc(setmetatable({1}, {}))), "9101")
end)

test("malformed msgpack raises, ext types are refused", function()
  assert(tostring(H.raises(dec, "\xc1")):find("invalid msgpack type byte 0xc1"))
  assert(tostring(H.raises(dec, "\x92\x01")):find("truncated"))
  assert(tostring(H.raises(dec, "\x01\x02")):find("trailing"))
  assert(tostring(H.raises(dec, "\xd4\x01\x00")):find("ext types"))
  assert(tostring(H.raises(dec, "\x81\xc0\x01")):find("nil"))
  assert(tostring(H.raises(dec, "\xdd\xff\xff\xff\xff")):find("truncated"))
end)

return T
