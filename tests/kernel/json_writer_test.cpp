#include "core/json_writer.hpp"

#include <doctest/doctest.h>
#include <boost/json.hpp>

using bookspace::core::JsonWriter;

TEST_CASE("JsonWriter: commas, nesting and raw values make JSON boost::json reads back") {
  std::string out;
  JsonWriter w(out);
  w.begin_object().key("a").integer(-7).key("list").begin_array();
  w.string("x").boolean(true).null().raw(R"(["t1","t2"])").begin_object().end_object();
  w.end_array().key("at").time(0).key("empty").begin_array().end_array().end_object();
  CHECK(out ==
        R"({"a":-7,"list":["x",true,null,["t1","t2"],{}],"at":"1970-01-01T00:00:00.000Z","empty":[]})");
  CHECK(boost::json::parse(out).at("list").as_array().size() == 5);
}

TEST_CASE("JsonWriter: strings escaped as boost::json reads them back, UTF-8 kept") {
  const std::string nasty = std::string("q\"b\\s/\n\t\r\x01\x1f end \xC3\xA9 \xF0\x9F\x93\x9A") + '\0' + "z";
  std::string out;
  JsonWriter(out).begin_object().key("k\"ey").string(nasty).end_object();
  auto v = boost::json::parse(out);
  CHECK(std::string(v.at("k\"ey").as_string()) == nasty);
  CHECK(out.find('\n') == std::string::npos);
}
