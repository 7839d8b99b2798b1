// Separate compilation of Asio and Beast: their implementation is built once, here.
#include <boost/asio/impl/src.hpp>
#include <boost/beast/src.hpp>
