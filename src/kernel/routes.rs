//! IPv4 routes of one namespace, over its rtnetlink socket.

use std::io;
use std::net::Ipv4Addr;

use rtnetlink::packet_route::route::{RouteProtocol, RouteScope, RouteType};
use rtnetlink::{Handle, RouteMessageBuilder};

use super::netlink::io_error;
use super::plan::RoutePlan;

/// `ip route add ROUTE`; `dev_index` is the index of `route.dev`.
pub async fn add_route(handle: &Handle, route: &RoutePlan, dev_index: Option<u32>) -> io::Result<()> {
    // `proto boot` is what `ip route add` uses, and `ip route` hides it.
    let mut message = RouteMessageBuilder::<Ipv4Addr>::new()
        .destination_prefix(route.dst.addr(), route.dst.prefix_len())
        .protocol(RouteProtocol::Boot);
    if route.blackhole {
        message = message.kind(RouteType::BlackHole);
    }
    if let Some(gateway) = route.gateway {
        message = message.gateway(gateway);
    }
    if let Some(index) = dev_index {
        message = message.output_interface(index);
    }
    // Like iproute2, a unicast route without gateway is `scope link`.
    if route.scope_link || (route.gateway.is_none() && !route.blackhole) {
        message = message.scope(RouteScope::Link);
    }
    handle.route().add(message.build()).execute().await.map_err(io_error)
}

/// The route as `ip route` would spell it: `0.0.0.0/0 via 169.254.1.1 dev eth0`.
pub fn describe(route: &RoutePlan) -> String {
    let mut text = if route.blackhole {
        format!("blackhole {}", route.dst)
    } else {
        route.dst.to_string()
    };
    if let Some(gateway) = route.gateway {
        text += &format!(" via {gateway}");
    }
    if let Some(dev) = &route.dev {
        text += &format!(" dev {dev}");
    }
    if route.scope_link {
        text += " scope link";
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describes_routes_like_ip_route() {
        let default = RoutePlan {
            dst: "0.0.0.0/0".parse().unwrap(),
            gateway: Some(Ipv4Addr::new(169, 254, 1, 1)),
            dev: Some("eth0".into()),
            scope_link: false,
            blackhole: false,
        };
        assert_eq!(describe(&default), "0.0.0.0/0 via 169.254.1.1 dev eth0");
        let blackhole = RoutePlan {
            dst: "10.96.0.0/12".parse().unwrap(),
            gateway: None,
            dev: None,
            scope_link: false,
            blackhole: true,
        };
        assert_eq!(describe(&blackhole), "blackhole 10.96.0.0/12");
    }
}
